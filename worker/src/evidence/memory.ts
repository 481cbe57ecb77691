/**
 * Bytes an isolate holds for comparison right now. Every body read for
 * comparison reserves its size first (its declared length, else the cap) and
 * gives it back once its exchange is compared, so the total stays under the
 * bound however many requests are in flight.
 */
export class ComparisonMemory {
  #used = 0;
  limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  reserve(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}

/** Windows at least this long are cached: a minute more or less of evidence changes them by under 0.3 %. */
export const CACHED_WINDOW_MINUTES = 6 * 60;
const MAX_ENTRIES = 16;

/**
 * Reports of long windows, kept until the window's last minute moves on.
 * The dashboard refreshes every 5 s; without this, each refresh of a 7-day
 * window would read and merge a week of rows again. A cached report lacks at
 * most the evidence that landed in its last minute after it was read.
 */
export class ReportCache<T> {
  readonly #entries = new Map<string, T>();
  #minute = Number.NaN;

  get(key: string, lastMinute: number): T | undefined {
    if (lastMinute !== this.#minute) {
      this.#entries.clear();
      this.#minute = lastMinute;
    }
    return this.#entries.get(key);
  }

  set(key: string, value: T): void {
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(key, value);
  }

  /** Evidence was forgotten or pruned: nothing cached may outlive it. */
  clear(): void {
    this.#entries.clear();
  }
}

/** Copies that fail to connect or time out this many times in a row pause a shadow. */
export const PAUSE_AFTER_FAILURES = 5;
/** How long a paused shadow gets no copies before one trial copy is let through. */
export const PAUSE_MS = 10_000;
/** Enough for every shadow an isolate serves; beyond it the oldest entries are forgotten. */
const MAX_TRACKED = 1_000;

interface ShadowHealth {
  failures: number;
  pausedUntil: number;
  trialInFlight: boolean;
}

/**
 * Per-isolate circuit breaker for shadows. A dead shadow would otherwise cost
 * every request a connection attempt (and up to SHADOW_TIMEOUT_MS of a
 * connection slot); after five consecutive failures it gets no copies for
 * 10 s, then exactly one trial copy decides whether it is back.
 * Any HTTP answer, 5xx included, counts as reachable: this guards
 * connections, not correctness.
 */
export class ShadowPauses {
  readonly #shadows = new Map<string, ShadowHealth>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether a copy may go to `key` now; a `true` after a pause is the trial copy, and the caller must report its outcome. */
  admit(key: string): boolean {
    const health = this.#shadows.get(key);
    if (!health || health.failures < PAUSE_AFTER_FAILURES) return true;
    if (health.trialInFlight || this.now() < health.pausedUntil) return false;
    health.trialInFlight = true;
    return true;
  }

  /** Gives back a trial copy that `admit` allowed but that was never sent (say, its body was too large to copy). */
  withdraw(key: string): void {
    const health = this.#shadows.get(key);
    if (health) health.trialInFlight = false;
  }

  /** Records how a copy to `key` fared: `reached` is any HTTP answer; otherwise it failed to connect or timed out. */
  report(key: string, reached: boolean): void {
    if (reached) {
      this.#shadows.delete(key);
      return;
    }
    let health = this.#shadows.get(key);
    if (!health) {
      if (this.#shadows.size >= MAX_TRACKED) {
        const oldest = this.#shadows.keys().next();
        if (!oldest.done) this.#shadows.delete(oldest.value);
      }
      health = { failures: 0, pausedUntil: 0, trialInFlight: false };
      this.#shadows.set(key, health);
    }
    health.failures++;
    health.trialInFlight = false;
    if (health.failures >= PAUSE_AFTER_FAILURES) health.pausedUntil = this.now() + PAUSE_MS;
  }

  /** Whether `key` is paused right now (for logs and tests). */
  isPaused(key: string): boolean {
    const health = this.#shadows.get(key);
    return health !== undefined && health.failures >= PAUSE_AFTER_FAILURES && this.now() < health.pausedUntil;
  }
}

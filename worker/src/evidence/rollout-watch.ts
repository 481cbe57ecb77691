/** A version's canary evidence asks for a look at its rollout at most this often. */
export const WATCH_EVERY_MS = 2_000;

interface VersionWatch {
  last: number;
  running: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Between two crons, a ledger that takes a batch of canary-answered evidence
 * asks the name's coordinator to judge that version's running rollout, so a
 * step that fails is aborted within seconds of its evidence landing. Per
 * version: one ask at a time, at most one per `everyMs`, and evidence that
 * lands in between is judged by one more ask when the interval is up, so the
 * last batch is never left for the cron.
 */
export class RolloutWatch {
  readonly #versions = new Map<string, VersionWatch>();
  readonly #ask: (version: string) => Promise<void>;
  readonly #everyMs: number;

  constructor(ask: (version: string) => Promise<void>, everyMs = WATCH_EVERY_MS) {
    this.#ask = ask;
    this.#everyMs = everyMs;
  }

  /** Evidence of these versions, answered as canaries, has just been stored. */
  saw(versions: Iterable<string>): void {
    for (const version of versions) this.#due(version);
  }

  #due(version: string): void {
    let watch = this.#versions.get(version);
    if (!watch) {
      // A name has a handful of versions; a bound all the same, since versions come from the wire.
      if (this.#versions.size >= 100) this.#versions.clear();
      watch = { last: 0, running: false };
      this.#versions.set(version, watch);
    }
    if (watch.timer !== undefined) return;
    const wait = watch.last + this.#everyMs - Date.now();
    if (wait <= 0 && !watch.running) {
      void this.#run(version, watch);
      return;
    }
    const again = watch;
    watch.timer = setTimeout(
      () => {
        again.timer = undefined;
        this.#due(version);
      },
      Math.max(wait, 50),
    );
  }

  async #run(version: string, watch: VersionWatch): Promise<void> {
    watch.running = true;
    watch.last = Date.now();
    try {
      await this.#ask(version);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      console.error(JSON.stringify({ event: "rollout_watch_failed", version, reason }));
    } finally {
      watch.running = false;
    }
  }
}

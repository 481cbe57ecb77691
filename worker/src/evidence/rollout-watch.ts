import type { Env } from "../env.ts";

/** A version's evidence asks for a look at its rollout at most this often. */
const WATCH_EVERY_MS = 2_000;
/** How long a version whose rollout was found running has all its evidence watched, canary or not. */
const WATCHED_FOR_MS = 60_000;

interface VersionWatch {
  last: number;
  running: boolean;
  /** Until when every batch of this version asks, not only those with canary answers. */
  watchedUntil: number;
  timer?: ReturnType<typeof setTimeout>;
}

/** One version's evidence in a stored batch: whether any of it was answered by the version as a canary. */
interface SeenEvidence {
  version: string;
  canary: boolean;
}

/**
 * Between two crons, a ledger that stores a batch asks the name's coordinator
 * to judge that version's running rollout, so a step that fails is aborted
 * within seconds of its evidence landing. A running step always has a canary
 * share, so evidence of canary answers is what starts the asking; once the
 * coordinator says a rollout of the version is running, its mirrored copies
 * ask too (most of a small step's evidence). Per version: one ask at a time,
 * at most one per `everyMs`, and evidence that lands in between is judged by
 * one more ask when the interval is up, so the last batch is never left for the cron.
 */
/**
 * How a name's ledger asks: its coordinator judges the version's running rollout (aborting a step
 * that fails, and telling the name's notification target); the answer is whether it still runs.
 */
export function askCoordinator(env: Env, name: string): (version: string) => Promise<boolean> {
  return async (version) => {
    const outcome = await env.SERVICE_COORDINATOR.getByName(name).watchRollout(name, version);
    if (!outcome.ok) throw new Error(outcome.body.error.message);
    return outcome.value.running;
  };
}

export class RolloutWatch {
  readonly #versions = new Map<string, VersionWatch>();
  /** Judges the version's running rollout; answers whether one is still running. */
  readonly #ask: (version: string) => Promise<boolean>;
  readonly #everyMs: number;

  constructor(ask: (version: string) => Promise<boolean>, everyMs = WATCH_EVERY_MS) {
    this.#ask = ask;
    this.#everyMs = everyMs;
  }

  /** Evidence of these versions has just been stored. */
  saw(evidence: Iterable<SeenEvidence>): void {
    for (const { version, canary } of evidence) {
      const watch = this.#versions.get(version);
      if (canary || (watch && watch.watchedUntil > Date.now())) this.#due(version);
    }
  }

  #due(version: string): void {
    let watch = this.#versions.get(version);
    if (!watch) {
      // A name has a handful of versions; a bound all the same, since versions come from the wire.
      if (this.#versions.size >= 100) this.#versions.clear();
      watch = { last: 0, running: false, watchedUntil: 0 };
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
      watch.watchedUntil = (await this.#ask(version)) ? Date.now() + WATCHED_FOR_MS : 0;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      console.error(JSON.stringify({ event: "rollout_watch_failed", version, reason }));
    } finally {
      watch.running = false;
    }
  }
}

import { reasonOf } from "../errors.ts";
import type { CaptureBatch, CaptureLog } from "./log.ts";
import type { CapturedExchange } from "./record.ts";

type WaitUntil = (promise: Promise<unknown>) => void;

/** Bytes of captures one isolate holds for one name before its flush; past it, captures are dropped and counted. */
const PENDING_MAX_BYTES = 4 * 1024 * 1024;

interface Pending {
  exchanges: CapturedExchange[];
  bytes: number;
  limits: { maxBytesPerHour: number; retentionHours: number };
}

/**
 * One isolate's captures per name, sent to the name's capture log at most once a second, like the
 * evidence batches. Best effort: a capture that does not fit, or a flush that fails, is counted as
 * dropped (and the count reaches the log with the next batch), never retried into a client's time.
 */
class CaptureBatcher {
  readonly #pending = new Map<string, Pending>();
  /** Dropped per name, not yet told to its log. */
  readonly #dropped = new Map<string, number>();
  readonly stats = { flushes: 0, failedFlushes: 0, dropped: 0 };

  constructor(
    readonly logs: DurableObjectNamespace<CaptureLog>,
    readonly intervalMs = 1_000,
  ) {}

  add(name: string, exchange: CapturedExchange, limits: Pending["limits"], waitUntil: WaitUntil): void {
    const size = exchange.body?.length ?? 0;
    const bytes = size + exchange.main.body.length + exchange.url.length + 512;
    let pending = this.#pending.get(name);
    if (pending && pending.bytes + bytes > PENDING_MAX_BYTES) {
      this.drop(name);
      return;
    }
    if (!pending) {
      pending = { exchanges: [], bytes: 0, limits };
      this.#pending.set(name, pending);
      waitUntil(new Promise((resolve) => setTimeout(resolve, this.intervalMs)).then(() => this.flush(name)));
    }
    pending.exchanges.push(exchange);
    pending.bytes += bytes;
    pending.limits = limits;
  }

  /** A capture that could not be made (its answer broke, say): counted, not kept. */
  drop(name: string, count = 1): void {
    this.#dropped.set(name, (this.#dropped.get(name) ?? 0) + count);
    this.stats.dropped += count;
  }

  async flush(name: string): Promise<void> {
    const pending = this.#pending.get(name);
    this.#pending.delete(name);
    if (!pending) return;
    const dropped = this.#dropped.get(name) ?? 0;
    this.#dropped.delete(name);
    const batch: CaptureBatch = { exchanges: pending.exchanges, dropped, ...pending.limits };
    try {
      await this.logs.getByName(name).add(name, batch);
      this.stats.flushes++;
    } catch (error) {
      this.stats.failedFlushes++;
      this.drop(name, pending.exchanges.length + dropped);
      this.stats.dropped -= dropped;
      console.error(
        JSON.stringify({
          event: "capture_flush_failed",
          name,
          dropped: pending.exchanges.length,
          reason: reasonOf(error),
        }),
      );
    }
  }
}

const batchers = new WeakMap<DurableObjectNamespace<CaptureLog>, CaptureBatcher>();

/**
 * The isolate's batcher for one capture-log binding: every name's captures on their way to its log.
 * Built once per binding (production has one), never changed by a request.
 */
export function captureBatcherFor(logs: DurableObjectNamespace<CaptureLog>): CaptureBatcher {
  let batcher = batchers.get(logs);
  if (!batcher) {
    batcher = new CaptureBatcher(logs);
    batchers.set(logs, batcher);
  }
  return batcher;
}

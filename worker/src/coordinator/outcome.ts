import { isStorageFailure, storageUnavailable } from "../db/failure.ts";
import { AppError, type ErrorBody, reasonOf } from "../errors.ts";

/** Errors lose their class across RPC, so the coordinator answers with plain data. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; status: AppError["status"]; body: ErrorBody };

/**
 * Runs a name's changes one at a time, in order, each answering as an Outcome. Input gates stay open
 * while D1 is awaited, so this queue is what keeps two changes from deciding on the same stale read.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(operation: () => Promise<T>): Promise<Outcome<T>> {
    const run = this.#tail.then(operation);
    this.#tail = run.catch(() => undefined);
    return run.then(
      (value): Outcome<T> => ({ ok: true, value }),
      (error: unknown): Outcome<T> => {
        if (error instanceof AppError) return { ok: false, status: error.status, body: error.toBody() };
        if (!isStorageFailure(error)) throw error;
        // D1 failed: the change's one batch was written whole or not at all; the caller may read back or retry.
        console.error(JSON.stringify({ event: "storage_failed", message: reasonOf(error) }));
        const unavailable = storageUnavailable();
        return { ok: false, status: unavailable.status, body: unavailable.toBody() };
      },
    );
  }
}

import { AppError } from "../errors.ts";

/**
 * D1's own failures: its errors say `D1_ERROR: …` (or `D1_EXEC_ERROR`, …) or
 * name D1 ("D1 DB is overloaded"), and drizzle wraps a failed query in an
 * error whose `cause` is D1's.
 */
export function isStorageFailure(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (/\bD1(_[A-Z_]+)?\b/.test(e.message)) return true;
  }
  return false;
}

/**
 * What a client is told when D1 failed under its request. Each change of the
 * registry is one D1 batch, so it was made whole or not at all (a read after
 * it may be what failed): the client can read the state back or send the same
 * request again. D1's message (which may quote SQL) stays in the log.
 */
export function storageUnavailable(): AppError {
  return new AppError(
    503,
    "storage_unavailable",
    "The registry's database (D1) failed during this request; a change is made whole or not at all, so read the state back or try again in a moment",
  );
}

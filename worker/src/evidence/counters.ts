/**
 * The counts of one shadow's copies over any span: one request, a minute, an
 * hour, a window, its whole life. Every field is a sum, so spans (and shards)
 * add up field by field. One type for the isolate's batch, the ledger's rows,
 * lifetime totals and the verdict's evidence; the ledger maps it to SQL once
 * (ledger/counter-rows.ts).
 */
export type Counters = {
  /** Copies sent: compared + notCompared + errorsShadow. */
  mirrored: number;
  /** Both answers arrived and their bodies were compared, with the detail kept. */
  compared: number;
  /** The shadow answered, but its body was not compared (stream, over the cap, memory) or its detail was dropped. */
  notCompared: number;
  /** Copies that failed: could not connect, timed out, broke mid-body, or answered 5xx (the `error` outcome). */
  errorsShadow: number;
  /** Copies never sent because the shadow was marked unreachable or paused. */
  down: number;
  /** Copies sampled out or filtered by method: not evidence either way. */
  skipped: number;
  /** Of `notCompared`, requests whose field detail was dropped under memory pressure. */
  unrecorded: number;
  /** Of `mirrored`: pairs the shadow answered as a canary (main's answer was the copy). */
  canary: number;
  /** Of `mirrored`: main failed. */
  errorsMain: number;
  /** Of `mirrored`: the shadow failed and main did not (the paired error rule, +1). */
  errorsShadowOnly: number;
  /** Of `mirrored`: main failed and the shadow did not (the paired error rule, -1). */
  errorsMainOnly: number;
};

export const COUNTER_NAMES = [
  "mirrored",
  "compared",
  "notCompared",
  "errorsShadow",
  "down",
  "skipped",
  "unrecorded",
  "canary",
  "errorsMain",
  "errorsShadowOnly",
  "errorsMainOnly",
] as const satisfies readonly (keyof Counters)[];

export function emptyCounters(): Counters {
  return {
    mirrored: 0,
    compared: 0,
    notCompared: 0,
    errorsShadow: 0,
    down: 0,
    skipped: 0,
    unrecorded: 0,
    canary: 0,
    errorsMain: 0,
    errorsShadowOnly: 0,
    errorsMainOnly: 0,
  };
}

/** Adds `from`'s counts to `into`'s. */
export function addCounters(into: Counters, from: Counters): void {
  for (const name of COUNTER_NAMES) into[name] += from[name];
}

/**
 * Counters as they arrive in a batch from any isolate: one older than a
 * field sent none of it. An older isolate did not pair its errors, so each
 * shadow error is taken as the shadow's alone.
 */
export function countersFromWire(
  wire: Omit<Counters, "canary" | "errorsShadowOnly" | "errorsMainOnly"> & Partial<Counters>,
): Counters {
  const counters = emptyCounters();
  for (const name of COUNTER_NAMES) counters[name] = Number(wire[name] ?? 0);
  counters.errorsShadowOnly = Number(wire.errorsShadowOnly ?? wire.errorsShadow);
  return counters;
}

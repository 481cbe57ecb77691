// Repeated, interleaved rounds: every scenario runs once per round (A B C … A B C …), so two
// scenarios a ratio compares always ran minutes apart at most and under the same load. A ratio is
// taken within each round and reported as the median over rounds with its spread (min–max); a
// target is met when the median meets it. Pure functions, tested without load.
import type { ScenarioResult } from "./report.ts";

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** The median (the mean of the middle two for an even count) and the range; null for no values. */
export function spreadOf(values: readonly number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0 };
}

/** How far the range reaches from the median, as a share of it: 0.1 is "±10 %" at its widest. */
export function relativeSpread(spread: Spread | null): number | null {
  if (spread === null || spread.median === 0) return null;
  return Math.max(spread.max - spread.median, spread.median - spread.min) / Math.abs(spread.median);
}

/** A number measured in every round: its per-round values and their median and range. */
export interface RoundValue {
  value: number | null;
  min: number | null;
  max: number | null;
  rounds: number[];
}

/** `measure` taken in each round separately (a round where it cannot be taken is left out). */
export function acrossRounds(rounds: readonly ScenarioResult[][], measure: (round: ScenarioResult[]) => number | null) {
  const values = rounds.map(measure).filter((v): v is number => v !== null && Number.isFinite(v));
  const spread = spreadOf(values);
  return {
    value: spread?.median ?? null,
    min: spread?.min ?? null,
    max: spread?.max ?? null,
    rounds: values,
  } satisfies RoundValue;
}

const medianOf = (values: (number | null | undefined)[]): number | null =>
  spreadOf(values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)))?.median ?? null;

/**
 * One row per scenario from its rounds: medians of the rates, latencies and CPU, the highest peak
 * memory and other load, errors summed; `spread` keeps the range of req/s and p99 over the rounds.
 */
export function medianResults(rounds: readonly ScenarioResult[][]): ScenarioResult[] {
  const order: string[] = [];
  const byId = new Map<string, ScenarioResult[]>();
  for (const round of rounds) {
    for (const result of round) {
      const seen = byId.get(result.id);
      if (seen) seen.push(result);
      else {
        byId.set(result.id, [result]);
        order.push(result.id);
      }
    }
  }
  return order.map((id) => {
    const runs = byId.get(id) ?? [];
    const first = runs[0] as ScenarioResult;
    const pick = (f: (r: ScenarioResult) => number | null | undefined) => medianOf(runs.map(f));
    const max = (f: (r: ScenarioResult) => number | null) => {
      const values = runs.map(f).filter((v): v is number => v !== null);
      return values.length === 0 ? null : Math.max(...values);
    };
    const rps = spreadOf(runs.map((r) => r.rps));
    const p99 = spreadOf(runs.map((r) => r.p99Ms));
    return {
      ...first,
      requests: runs.reduce((sum, r) => sum + r.requests, 0),
      rps: rps?.median ?? 0,
      p50Ms: pick((r) => r.p50Ms) ?? 0,
      p99Ms: p99?.median ?? 0,
      latencyMs: {
        p90: pick((r) => r.latencyMs.p90) ?? 0,
        p999: pick((r) => r.latencyMs.p999) ?? 0,
        max: max((r) => r.latencyMs.max) ?? 0,
      },
      errors: runs.reduce((sum, r) => sum + r.errors, 0),
      cpuMsPerReq: pick((r) => r.cpuMsPerReq),
      peakRssMb: max((r) => r.peakRssMb),
      shadowCopiesDelivered: pick((r) => r.shadowCopiesDelivered),
      ledgerWritesPerReq: pick((r) => r.ledgerWritesPerReq),
      otherLoadPct: max((r) => r.otherLoadPct) ?? 0,
      profiled: runs.some((r) => r.profiled),
      rounds: runs.length,
      spread: {
        rps: rps ? [rps.min, rps.max] : [0, 0],
        p99Ms: p99 ? [p99.min, p99.max] : [0, 0],
      },
    };
  });
}

import { bucketCeiling, bucketFloor, type LatencyHistogram } from "../histogram.ts";
import { type BetaPrior, type Side, ThresholdTable } from "./mixture.ts";

/*
 * Bands on a quantile read off a latency histogram (Howard & Ramdas 2022).
 * Latencies above the true q-quantile arrive at a rate of at most 1 − q, and
 * those at or above it at a rate of at least 1 − q. So the count above an
 * edge is tested as a Bernoulli count against p0 = 1 − q with the one-sided
 * mixtures: when more latencies lie above an edge than the rate 1 − q
 * allows at any look, the quantile is above that edge, and when fewer, it is
 * below. Because the test only grows with the count, each bound is an order
 * statistic: the edge of the bucket holding the k-th slowest latency, with k
 * from a table per number of latencies. Histogram edges only widen a band.
 */

/** A histogram as the bands read it: non-empty buckets, slowest first, and how many latencies in all. */
export interface Tail {
  buckets: readonly [bucket: number, count: number][];
  total: number;
}

export function tailOf(histogram: LatencyHistogram): Tail {
  return { buckets: histogram.slowestFirst(), total: histogram.count };
}

/**
 * The largest edge with at least k latencies above it (0 when there is
 * none). `scale` reads the histogram as if every count were that many times
 * larger: what the same shape would give after more requests.
 */
function edgeWithAtLeast(tail: Tail, k: number, scale = 1): number {
  if (k <= 0) return 0;
  let above = 0;
  for (const [bucket, count] of tail.buckets) {
    above += count * scale;
    if (above >= k) return bucketFloor(bucket);
  }
  return 0;
}

/** The smallest edge with at most k latencies above it (infinite when k < 0). */
function edgeWithAtMost(tail: Tail, k: number, scale = 1): number {
  if (k < 0) return Number.POSITIVE_INFINITY;
  let above = 0;
  for (const [bucket, count] of tail.buckets) {
    above += count * scale;
    if (above > k) return bucketCeiling(bucket);
  }
  return 0;
}

/** Priors of the exceedance rate for the quantiles the judge reads: a tail quantile's rate is small. */
function priorsOf(quantile: number): Record<Side, BetaPrior> {
  const p0 = 1 - quantile;
  if (p0 >= 0.2) return { above: { mean: 0.5, weight: 20 }, below: { mean: 0.5, weight: 20 } };
  return { above: { mean: 2 * p0, weight: 2 / p0 }, below: { mean: p0 / 2, weight: 2 / p0 } };
}

const tables = new Map<string, ThresholdTable>();

/** The threshold table of one bound, shared by every report in the isolate. */
function table(quantile: number, side: Side, alpha: number): ThresholdTable {
  const key = `${quantile} ${side} ${alpha}`;
  let known = tables.get(key);
  if (!known) {
    if (tables.size >= 64) tables.clear();
    known = new ThresholdTable(side, 1 - quantile, priorsOf(quantile)[side], alpha);
    tables.set(key, known);
  }
  return known;
}

/** A band on one side's quantile, in ms: `high` is infinite until enough latencies bound it. */
export interface QuantileBand {
  low: number;
  high: number;
}

/**
 * A band on the q-quantile that holds at every look: the low edge at level
 * `lowAlpha`, the high edge at `highAlpha`.
 */
export function quantileBand(tail: Tail, quantile: number, lowAlpha: number, highAlpha: number, scale = 1) {
  const n = Math.round(tail.total * scale);
  if (n <= 0) return { low: 0, high: Number.POSITIVE_INFINITY } satisfies QuantileBand;
  const low = edgeWithAtLeast(tail, table(quantile, "above", lowAlpha).at(n), scale);
  const high = edgeWithAtMost(tail, table(quantile, "below", highAlpha).at(n), scale);
  return { low: Math.min(low, high), high } satisfies QuantileBand;
}

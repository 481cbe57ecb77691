import type { LatencyHistogram } from "./histogram.ts";

/** A series holds at most this many steps, one more when the window does not start on a step boundary. */
const SERIES_MAX_STEPS = 240;

/** The steps of a series, in minutes since the epoch. */
export interface SeriesSteps {
  first: number;
  step: number;
  length: number;
}

/**
 * The steps over the minutes [lo, hi): one minute each up to 240 minutes, wider
 * beyond (24 h → 6 min, 7 d → 42 min). Steps start on multiples of their size
 * since the epoch, so a chart refreshed a minute later keeps its buckets.
 */
export function seriesSteps(lo: number, hi: number): SeriesSteps {
  const step = Math.max(1, Math.ceil((hi - lo) / SERIES_MAX_STEPS));
  const first = Math.floor(lo / step) * step;
  return { first, step, length: Math.max(0, Math.ceil((hi - first) / step)) };
}

export function stepOf(steps: SeriesSteps, minute: number): number {
  return Math.floor((minute - steps.first) / steps.step);
}

/** p99 rounded to 0.1 ms as the report rounds it; null for a step that measured nothing. */
export function p99OrNull(histogram: LatencyHistogram): number | null {
  if (histogram.count === 0) return null;
  return Math.round(histogram.quantile(0.99) * 10) / 10;
}

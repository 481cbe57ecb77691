// Which steps of a report's series a chart may draw.
import type { Report, ReportSeries } from "./api.ts";

/** The steps that lie wholly inside the report's window: the running step and a clipped first one are left out. */
export function completeSteps(series: ReportSeries, window: Report["window"]): number[] {
  const from = Date.parse(series.from);
  const stepMs = series.stepSeconds * 1000;
  const windowFrom = Date.parse(window.from);
  const windowTo = Date.parse(window.to);
  const length = Math.max(0, ...series.versions.map((entry) => entry.requests.length));
  const steps: number[] = [];
  for (let index = 0; index < length; index++) {
    const start = from + index * stepMs;
    if (start >= windowFrom && start + stepMs <= windowTo) steps.push(index);
  }
  return steps;
}

/**
 * The steps from the one before the first with any request on (the running minute's requests
 * included): a name deployed 5 minutes ago opens its 1 h charts on those minutes, not on 55 minutes
 * of zero line with the data squeezed at the right. With no request at all, every step stays (the
 * charts then say there is nothing to draw).
 */
export function fromFirstTraffic(series: ReportSeries, steps: readonly number[]): number[] {
  const length = Math.max(series.main?.requests.length ?? 0, ...series.versions.map((entry) => entry.requests.length));
  const busy = (index: number) =>
    (series.main?.requests[index] ?? 0) > 0 || series.versions.some((entry) => (entry.requests[index] ?? 0) > 0);
  const first = Array.from({ length }, (_, index) => index).find(busy);
  return first === undefined ? [...steps] : steps.filter((index) => index >= first - 1);
}

/** When each step of a rollout began (the first at its start, each later one when the one before ended). */
export function rolloutStepStarts(rollout: {
  startedAt: string;
  steps: readonly number[];
  step: number;
  since: string;
  results: readonly { at: string }[];
}): { at: string; percent: number }[] {
  return rollout.steps.slice(0, rollout.step + 1).map((percent, i) => ({
    percent,
    at:
      i === 0 ? rollout.startedAt : i === rollout.step ? rollout.since : (rollout.results[i - 1]?.at ?? rollout.since),
  }));
}

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

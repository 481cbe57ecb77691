import { describe, expect, it } from "vitest";
import type { ReportSeries } from "../../src/api.ts";
import { completeSteps, fromFirstTraffic, rolloutStepStarts } from "../../src/steps.ts";

const series = (from: string, length: number, stepSeconds = 60): ReportSeries => ({
  from,
  stepSeconds,
  main: {
    requests: Array(length).fill(1),
    status: { "2xx": Array(length).fill(1), "3xx": [], "4xx": [], "5xx": [] },
    p99Ms: Array(length).fill(null),
  },
  promotions: [],
  versions: [{ version: "1.0.0", requests: Array(length).fill(1), p99Ms: Array(length).fill(null) }],
});

describe("the steps a chart draws", () => {
  it("leaves out the minute still running and the one the window's start cuts", () => {
    // A 1h window read at 10:00:30: steps from 09:00 to 10:00 (61 of them); 09:00 starts before the
    // window and 10:00 has not ended, so 09:01 … 09:59 are drawn.
    const steps = completeSteps(series("2026-11-30T09:00:00.000Z", 61), {
      from: "2026-11-30T09:00:30.000Z",
      to: "2026-11-30T10:00:30.000Z",
    });
    expect(steps).toEqual(Array.from({ length: 59 }, (_, i) => i + 1));
  });

  it("keeps a step that ends exactly when the window does", () => {
    const steps = completeSteps(series("2026-11-30T09:00:00.000Z", 3), {
      from: "2026-11-30T09:00:00.000Z",
      to: "2026-11-30T09:03:00.000Z",
    });
    expect(steps).toEqual([0, 1, 2]);
  });

  it("has none when no step has ended yet", () => {
    const steps = completeSteps(series("2026-11-30T09:00:00.000Z", 1, 360), {
      from: "2026-11-30T09:00:00.000Z",
      to: "2026-11-30T09:04:00.000Z",
    });
    expect(steps).toEqual([]);
  });
});

describe("where a chart starts", () => {
  const quietThenBusy = (): ReportSeries => {
    const requests = [0, 0, 0, 0, 0, 0, 3, 5, 0, 4];
    return {
      from: "2026-11-30T09:00:00.000Z",
      stepSeconds: 60,
      main: { requests, status: { "2xx": requests, "3xx": [], "4xx": [], "5xx": [] }, p99Ms: [] },
      promotions: [],
      versions: [{ version: "2.0.0", requests: [0, 0, 0, 0, 0, 0, 0, 5, 0, 4], p99Ms: [] }],
    };
  };

  it("opens one step before the first minute with a request, not on the quiet minutes before it", () => {
    const all = Array.from({ length: 10 }, (_, i) => i);
    expect(fromFirstTraffic(quietThenBusy(), all)).toEqual([5, 6, 7, 8, 9]);
  });

  it("starts at the last complete minute when the only requests are in the running one", () => {
    const series = quietThenBusy();
    series.main.requests = [0, 0, 0, 0, 0, 0, 0, 0, 0, 4];
    series.versions = [];
    expect(fromFirstTraffic(series, [0, 1, 2, 3, 4, 5, 6, 7, 8])).toEqual([8]);
  });

  it("keeps a quiet minute after the first request: it is data (a drop), not a gap", () => {
    expect(fromFirstTraffic(quietThenBusy(), [6, 7, 8, 9])).toEqual([6, 7, 8, 9]);
  });

  it("keeps every step when there is no request at all", () => {
    const series = quietThenBusy();
    series.main.requests = [0, 0, 0];
    series.versions = [];
    expect(fromFirstTraffic(series, [0, 1, 2])).toEqual([0, 1, 2]);
  });
});

describe("a rollout's step marks", () => {
  it("put each step at its start: the rollout's start, then each earlier step's end, then the current step's", () => {
    const starts = rolloutStepStarts({
      startedAt: "2026-11-30T09:00:00.000Z",
      steps: [5, 25, 50],
      step: 2,
      since: "2026-11-30T09:21:00.000Z",
      results: [{ at: "2026-11-30T09:10:00.000Z" }, { at: "2026-11-30T09:21:00.000Z" }],
    });
    expect(starts).toEqual([
      { percent: 5, at: "2026-11-30T09:00:00.000Z" },
      { percent: 25, at: "2026-11-30T09:10:00.000Z" },
      { percent: 50, at: "2026-11-30T09:21:00.000Z" },
    ]);
  });
});

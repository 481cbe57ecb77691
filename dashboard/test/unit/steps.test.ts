import { describe, expect, it } from "vitest";
import type { ReportSeries } from "../../src/api.ts";
import { completeSteps } from "../../src/steps.ts";

const series = (from: string, length: number, stepSeconds = 60): ReportSeries => ({
  from,
  stepSeconds,
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

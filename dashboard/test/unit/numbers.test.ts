import { describe, expect, it } from "vitest";
import type { ShadowReport } from "../../src/api.ts";
import { numberRows } from "../../src/evidence.ts";

const latency = { p50: 3, p95: 9, p99: 12 };
const busy: ShadowReport = {
  version: "2.0.0",
  verdict: "pass",
  reasons: [],
  requests: {
    mirrored: 12_345,
    compared: 12_000,
    same: 11_000,
    different: 1_000,
    error: 45,
    notCompared: 1_300,
    down: 1_655,
    skipped: 0,
    unrecorded: 0,
    canary: 0,
  },
  errors: { main: 2_500, shadow: 45 },
  latencyMs: { main: latency, shadow: latency },
  confidence: {
    diffRate: { rate: 1_000 / 12_000, low: 0.08, high: 0.09 },
    errorRate: { rate: 1_700 / 14_000, low: 0.11, high: 0.13 },
    mainErrorRate: 2_500 / 12_345,
    errorIncrease: { rate: -0.08, low: -0.09, high: -0.07 },
    latencySamples: 12_000,
    latencyMs: {
      p50: { main: { low: 2.9, high: 3.1 }, shadow: { low: 2.9, high: 3.1 } },
      p99: { main: { low: 11.5, high: 12.6 }, shadow: { low: 11.5, high: null } },
    },
    alpha: 0.01,
    anytime: true,
    moreRequests: null,
  },
  fields: [],
};

describe("a shadow's numbers card", () => {
  it("groups every count as the tables and reasons do (12,345, not 12345)", () => {
    const rows = new Map(numberRows(busy).map(([label, main, shadow]) => [label, [main, shadow]]));
    expect(rows.get("mirrored")).toEqual(["12,345", "12,345"]);
    expect(rows.get("same")).toEqual(["—", "11,000 (78.57%)"]);
    expect(rows.get("different")).toEqual(["—", "1,000 (7.14%)"]);
    expect(rows.get("error")).toEqual(["2,500", "45 (0.32%)"]);
    expect(rows.get("not compared")).toEqual(["—", "1,300 (9.29%)"]);
    expect(rows.get("down")).toEqual(["—", "1,655 (11.82%)"]);
  });

  it("shows the bands the verdict was decided on, a band not yet bounded above as ?", () => {
    const rows = new Map(numberRows(busy).map(([label, main, shadow]) => [label, [main, shadow]]));
    expect(rows.get("p99")).toEqual(["12 ms (band 11.5–12.6 ms)", "12 ms (band 11.5–?)"]);
    expect(rows.get("errors over main's, same requests")).toEqual(["—", "-8 pt (band -9 pt to -7 pt)"]);
    expect(rows.get("difference rate")).toEqual(["—", "8.33% (band 8%–9%)"]);
  });
});

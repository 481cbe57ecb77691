import { describe, expect, it } from "vitest";
import { formatBands } from "../../src/bands.ts";
import type { ShadowReport } from "../../src/client.ts";

const shadow = (
  version: string,
  overrides: Partial<ShadowReport["confidence"]> = {},
  mirrored = 1210,
): ShadowReport => ({
  version,
  verdict: "inconclusive",
  reasons: [],
  requests: {
    mirrored,
    compared: mirrored,
    same: mirrored,
    different: 0,
    error: 0,
    notCompared: 0,
    down: 0,
    skipped: 0,
    unrecorded: 0,
    canary: 0,
  },
  errors: { main: 0, shadow: 0 },
  latencyMs: {
    main: { p50: 41.6, p95: 100, p99: 112.3 },
    shadow: { p50: 44.2, p95: 100, p99: 118.4 },
  },
  confidence: {
    diffRate: { rate: 0.0017, low: 0.0005, high: 0.006 },
    errorRate: { rate: 0.0008, low: 0.0001, high: 0.005 },
    mainErrorRate: 0.0008,
    errorIncrease: { rate: 0, low: -0.004, high: 0.0042 },
    latencySamples: mirrored,
    latencyMs: {
      p50: { main: { low: 40.8, high: 42.4 }, shadow: { low: 43.3, high: 45.1 } },
      p99: { main: { low: 104.6, high: null }, shadow: { low: 110.1, high: 127.4 } },
    },
    alpha: 0.01,
    anytime: true,
    moreRequests: null,
    ...overrides,
  },
  fields: [],
});

describe("formatBands", () => {
  it("one row a shadow: every band from the report, said to hold at any look, unbounded where it is", () => {
    expect(formatBands([shadow("2.0.0"), shadow("3.0.0", { diffRate: null, latencySamples: 0 })])).toEqual([
      "Bands at alpha 0.01, which hold at any look:",
      [
        "VERSION    DIFFERENT      ERROR RATE     ERROR INCREASE        P50 SHADOW       P50 MAIN         P99 SHADOW         P99 MAIN",
        "---------  -------------  -------------  --------------------  ---------------  ---------------  -----------------  ---------------------",
        "2.0.0      0.05% to 0.6%  0.01% to 0.5%  -0.4 to +0.42 points  43.3 to 45.1 ms  40.8 to 42.4 ms  110.1 to 127.4 ms  104.6 ms to unbounded",
        "3.0.0      -              0.01% to 0.5%  -0.4 to +0.42 points  -                -                -                  -",
      ].join("\n"),
    ]);
  });

  it("prints a band whose edges print alike as the one value: 2 ms, not 2 to 2 ms", () => {
    const narrow = shadow("2.0.0", {
      errorRate: { rate: 0, low: 0, high: 0 },
      latencyMs: {
        p50: { main: { low: 2, high: 2 }, shadow: { low: 2, high: 4.1 } },
        p99: { main: { low: 9, high: null }, shadow: { low: 9, high: 9 } },
      },
    });
    const row = formatBands([narrow])[1]?.split("\n")[2];
    expect(row?.split(/ {2,}/)).toEqual([
      "2.0.0",
      "0.05% to 0.6%",
      "0%",
      "-0.4 to +0.42 points",
      "2 to 4.1 ms",
      "2 ms",
      "9 ms",
      "9 ms to unbounded",
    ]);
  });

  it("says nothing while no shadow has a copy with an outcome", () => {
    expect(formatBands([shadow("2.0.0", {}, 0)])).toEqual([]);
  });
});

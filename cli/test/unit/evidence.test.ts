import { describe, expect, it } from "vitest";
import type { EvidenceReport, ShadowReport } from "../../src/client.ts";
import {
  formatFailures,
  formatMs,
  formatNoise,
  formatRate,
  formatReportTable,
  verdictLine,
} from "../../src/evidence.ts";

const latency = (p50: number, p99: number) => ({ p50, p95: p99, p99 });

const shadow = (overrides: Partial<ShadowReport>): ShadowReport => ({
  version: "2.0.0",
  verdict: "pass",
  reasons: [],
  requests: { mirrored: 1210, compared: 1204, same: 1202, different: 2, notCompared: 0, skipped: 6 },
  errors: { main: 1, shadow: 1 },
  latencyMs: { main: latency(41.6, 112.3), shadow: latency(44.2, 118.4) },
  fields: [],
  ...overrides,
});

const report = (shadows: ShadowReport[]): EvidenceReport => ({
  name: "hello",
  main: "1.0.0",
  window: { from: "2026-11-26T10:00:00.000Z", to: "2026-11-26T11:00:00.000Z" },
  shadows,
  noise: { sampled: 0, fields: [] },
});

const failing = shadow({
  version: "3.0.0",
  verdict: "fail",
  reasons: [
    "20% of compared requests differ (40 of 200), more than the 1% allowed; top fields: body.price (value, 20%)",
  ],
  requests: { mirrored: 200, compared: 200, same: 160, different: 40, notCompared: 0, skipped: 0 },
  errors: { main: 0, shadow: 0 },
  latencyMs: { main: latency(2.04, 4.5), shadow: latency(2.3, 5.1) },
  fields: [
    { path: "body.price", kind: "value", count: 40, rate: 0.2, noiseRate: 0, ignored: false, counts: true },
    { path: "body.time", kind: "value", count: 200, rate: 1, noiseRate: 1, ignored: false, counts: false },
  ],
});

describe("numbers as the report shows them", () => {
  it("rates with at most two decimals, milliseconds with one decimal under 10", () => {
    expect([0, 0.002, 0.2, 1 / 3, 1].map(formatRate)).toEqual(["0%", "0.2%", "20%", "33.33%", "100%"]);
    expect([1, 3.14, 9.96, 112.3, 1180.6].map(formatMs)).toEqual(["1 ms", "3.1 ms", "10 ms", "112 ms", "1181 ms"]);
  });
});

describe("the report table", () => {
  it("puts main first as the baseline, then each shadow with its verdict", () => {
    const table = formatReportTable(
      report([
        shadow({}),
        failing,
        shadow({
          version: "4.0.0-rc.1",
          verdict: "inconclusive",
          requests: { mirrored: 12, compared: 12, same: 12, different: 0, notCompared: 0, skipped: 0 },
          errors: { main: 0, shadow: 0 },
        }),
      ]),
      100,
    );
    expect(table.split("\n")).toEqual([
      "VERSION     COMPARED    SAME    DIFFERENT    ERRORS    P50     P99     VERDICT",
      "----------  ----------  ------  -----------  --------  ------  ------  ---------------------",
      "1.0.0       -           -       -            0.08%     42 ms   112 ms  main",
      "2.0.0       1,204       1,202   2            0.08%     44 ms   118 ms  pass",
      "3.0.0       200         160     40           0%        2.3 ms  5.1 ms  fail",
      "4.0.0-rc.1  12          12      0            0%        44 ms   118 ms  inconclusive (12/100)",
    ]);
  });

  it("with nothing mirrored yet: dashes for rates and latency, every shadow inconclusive (0/N)", () => {
    const empty = shadow({
      verdict: "inconclusive",
      requests: { mirrored: 0, compared: 0, same: 0, different: 0, notCompared: 0, skipped: 0 },
      errors: { main: 0, shadow: 0 },
      latencyMs: { main: latency(0, 0), shadow: latency(0, 0) },
    });
    expect(formatReportTable(report([empty]), 100).split("\n")).toEqual([
      "VERSION    COMPARED    SAME    DIFFERENT    ERRORS    P50    P99    VERDICT",
      "---------  ----------  ------  -----------  --------  -----  -----  --------------------",
      "1.0.0      -           -       -            -         -      -      main",
      "2.0.0      0           0       0            -         -      -      inconclusive (0/100)",
    ]);
  });

  it("a name without shadows is main's row alone", () => {
    expect(formatReportTable(report([]), 100).split("\n").slice(2)).toEqual([
      "1.0.0      -           -       -            -         -      -      main",
    ]);
  });
});

describe("under the table", () => {
  it("each failing shadow's reasons and its counting fields, not the noise", () => {
    expect(formatFailures(report([shadow({}), failing]))).toEqual([
      [
        "3.0.0 fails:",
        "  20% of compared requests differ (40 of 200), more than the 1% allowed; top fields: body.price (value, 20%)",
        "  PATH        KIND    RATE    NOISE RATE",
        "  ----------  ------  ------  ------------",
        "  body.price  value   20%     0%",
      ].join("\n"),
    ]);
    expect(formatFailures(report([shadow({})]))).toEqual([]);
  });

  it("what main against itself learnt", () => {
    expect(formatNoise(report([]))).toBeUndefined();
    const noisy = { ...report([]), noise: { sampled: 15, fields: [{ path: "body.time", rate: 1 }] } };
    expect(formatNoise(noisy)).toBe("Noise (main against itself, 15 copies): body.time 100%");
  });
});

describe("assign's verdict line", () => {
  it("pass, with the numbers beside main's", () => {
    expect(verdictLine("hello", shadow({}), 100)).toBe(
      "Evidence for hello 2.0.0 (last 1h): pass — 1,204 compared, 0.17% different, errors 0.08% vs 0.08% on main, p99 118 ms vs 112 ms",
    );
  });

  it("fail", () => {
    expect(verdictLine("hello", failing, 100)).toBe(
      "Evidence for hello 3.0.0 (last 1h): fail — 200 compared, 20% different, errors 0% vs 0% on main, p99 5.1 ms vs 4.5 ms",
    );
  });

  it("inconclusive says how far from a verdict, and that it proceeds", () => {
    const few = shadow({
      verdict: "inconclusive",
      requests: { mirrored: 12, compared: 12, same: 12, different: 0, notCompared: 0, skipped: 0 },
    });
    expect(verdictLine("hello", few, 100)).toBe(
      "Evidence for hello 2.0.0 (last 1h): inconclusive (12/100 compared) — too few to judge, so the gate lets it through",
    );
  });
});

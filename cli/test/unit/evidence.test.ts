import { describe, expect, it } from "vitest";
import type { EvidenceReport, ShadowReport } from "../../src/client.ts";
import {
  baselineLine,
  formatCanaryPairs,
  formatFailures,
  formatMs,
  formatNoise,
  formatRate,
  formatReportTable,
  mainNumbers,
  verdictLine,
} from "../../src/evidence.ts";
import { formatLocalTimestamp } from "../../src/table.ts";

const latency = (p50: number, p99: number) => ({ p50, p95: p99, p99 });

type Requests = ShadowReport["requests"];
const requests = (counts: Partial<Requests>): Requests => {
  const r = {
    same: 0,
    different: 0,
    error: 0,
    notCompared: 0,
    down: 0,
    skipped: 0,
    unrecorded: 0,
    canary: 0,
    ...counts,
  };
  return { ...r, compared: r.same + r.different, mirrored: r.same + r.different + r.error + r.notCompared };
};
const confidence = (overrides: Partial<ShadowReport["confidence"]> = {}): ShadowReport["confidence"] => ({
  diffRate: { rate: 0.0017, low: 0.0005, high: 0.006 },
  errorRate: { rate: 0.0008, low: 0.0001, high: 0.005 },
  mainErrorRate: 0.0008,
  errorIncrease: { rate: 0, low: -0.004, high: 0.004 },
  latencySamples: 1204,
  latencyMs: {
    p50: { main: { low: 40.8, high: 42.4 }, shadow: { low: 43.3, high: 45.1 } },
    p99: { main: { low: 104.6, high: 121.2 }, shadow: { low: 110.1, high: 127.4 } },
  },
  alpha: 0.01,
  anytime: true,
  moreRequests: null,
  ...overrides,
});

const shadow = (overrides: Partial<ShadowReport>): ShadowReport => ({
  version: "2.0.0",
  verdict: "pass",
  reasons: [],
  requests: requests({ same: 1202, different: 2, error: 1, notCompared: 3, skipped: 6 }),
  errors: { main: 1, shadow: 1 },
  latencyMs: { main: latency(41.6, 112.3), shadow: latency(44.2, 118.4) },
  confidence: confidence(),
  fields: [],
  ...overrides,
});

const report = (shadows: ShadowReport[]): EvidenceReport => ({
  name: "hello",
  main: "1.0.0",
  window: { from: "2026-11-26T10:00:00.000Z", to: "2026-11-26T11:00:00.000Z" },
  baseline: { main: "1.0.0", since: "2026-11-26T09:12:00.000Z" },
  // An older gateway's report counted no traffic of main's own: main's side of the widest shadow stands in.
  mainTraffic: { requests: 0, status: { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 }, latencyMs: latency(0, 0) },
  shadows,
  noise: { sampled: 0, routes: [], fields: [] },
});

const failing = shadow({
  version: "3.0.0",
  verdict: "fail",
  reasons: [
    "40 of 200 compared requests differ (20%, at least 15.03% at 95 % confidence), more than the 1% allowed; top fields: body.price (value, 20%)",
  ],
  requests: requests({ same: 160, different: 40 }),
  errors: { main: 0, shadow: 0 },
  latencyMs: { main: latency(2.04, 4.5), shadow: latency(2.3, 5.1) },
  confidence: confidence({ diffRate: { rate: 0.2, low: 0.1503, high: 0.2609 }, latencySamples: 200 }),
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
  it("puts main first as the baseline, then each shadow with one column per outcome and its verdict", () => {
    const table = formatReportTable(
      report([
        shadow({}),
        failing,
        shadow({
          version: "4.0.0-rc.1",
          verdict: "inconclusive",
          requests: requests({ same: 12 }),
          errors: { main: 0, shadow: 0 },
        }),
        shadow({
          version: "5.0.0",
          verdict: "fail",
          requests: requests({ error: 5, down: 145 }),
          errors: { main: 0, shadow: 5 },
          confidence: confidence({ latencySamples: 0 }),
        }),
      ]),
      100,
    );
    expect(table.split("\n")).toEqual([
      "VERSION     SAME    DIFFERENT    ERROR    NOT COMPARED    DOWN    ERROR RATE    P50     P99     VERDICT",
      "----------  ------  -----------  -------  --------------  ------  ------------  ------  ------  ---------------------",
      "1.0.0       -       -            -        -               -       0.08%         42 ms   112 ms  main",
      "2.0.0       1,202   2            1        3               0       0.08%         44 ms   118 ms  pass",
      "3.0.0       160     40           0        0               0       0%            2.3 ms  5.1 ms  fail",
      "4.0.0-rc.1  12      0            0        0               0       0%            44 ms   118 ms  inconclusive (12/100)",
      "5.0.0       0       0            5        0               145     100%          -       -       fail",
    ]);
  });

  it("with nothing mirrored yet: dashes for rates and latency, every shadow inconclusive (0/N)", () => {
    const empty = shadow({
      verdict: "inconclusive",
      requests: requests({}),
      errors: { main: 0, shadow: 0 },
      latencyMs: { main: latency(0, 0), shadow: latency(0, 0) },
      confidence: confidence({ latencySamples: 0 }),
    });
    expect(formatReportTable(report([empty]), 100).split("\n")).toEqual([
      "VERSION    SAME    DIFFERENT    ERROR    NOT COMPARED    DOWN    ERROR RATE    P50    P99    VERDICT",
      "---------  ------  -----------  -------  --------------  ------  ------------  -----  -----  --------------------",
      "1.0.0      -       -            -        -               -       -             -      -      main",
      "2.0.0      0       0            0        0               0       -             -      -      inconclusive (0/100)",
    ]);
  });

  it("a name without shadows is main's row alone", () => {
    expect(formatReportTable(report([]), 100).split("\n").slice(2)).toEqual([
      "1.0.0      -       -            -        -               -       -             -      -      main",
    ]);
  });
});

describe("under the table", () => {
  it("each failing shadow's reasons and its counting fields, not the noise", () => {
    expect(formatFailures(report([shadow({}), failing]))).toEqual([
      [
        "3.0.0 fails:",
        "  40 of 200 compared requests differ (20%, at least 15.03% at 95 % confidence), more than the 1% allowed; top fields: body.price (value, 20%)",
        "  PATH        KIND    RATE    NOISE RATE",
        "  ----------  ------  ------  ------------",
        "  body.price  value   20%     0%",
      ].join("\n"),
    ]);
    expect(formatFailures(report([shadow({})]))).toEqual([]);
  });

  it("ranks a different status first, shows five fields and says how many more", () => {
    const field = (path: string, count: number) => ({
      path,
      kind: "value" as const,
      count,
      rate: count / 200,
      noiseRate: 0,
      ignored: false,
      counts: true,
    });
    const many = shadow({
      verdict: "fail",
      reasons: ["…"],
      fields: [...["a", "b", "c", "d", "e", "f", "g"].map((k, i) => field(`body.${k}`, 100 - i)), field("status", 3)],
    });
    const [block] = formatFailures(report([many]));
    const lines = block?.split("\n") ?? [];
    expect(lines[4]).toMatch(/^ {2}status /);
    expect(lines.slice(4).map((l) => l.trim().split(/\s+/)[0])).toEqual([
      "status",
      "body.a",
      "body.b",
      "body.c",
      "body.d",
      "+3",
    ]);
    expect(lines.at(-1)).toBe("  +3 more fields");
  });

  it("says what an inconclusive shadow waits for, and about how many more requests would decide it", () => {
    const waiting = shadow({
      verdict: "inconclusive",
      reasons: [
        "0 of 240 compared requests differ: up to 1.58% at 95 % confidence, not yet clearly within 1%",
        "about 140 more requests at these rates would pass it",
      ],
    });
    expect(formatFailures(report([waiting]))).toEqual([
      [
        "2.0.0 is inconclusive:",
        "  0 of 240 compared requests differ: up to 1.58% at 95 % confidence, not yet clearly within 1%",
        "  about 140 more requests at these rates would pass it",
      ].join("\n"),
    ]);
  });

  it("prints paths and reasons from origins' JSON keys with control characters escaped", () => {
    // JSON.stringify quotes odd keys but leaves DEL and the C1 controls (CSI is \u009b) raw.
    const path = 'body["\u009b2J\u007f"]';
    const odd = shadow({
      verdict: "fail",
      reasons: [`top fields: ${path} (value, 20%)`],
      fields: [{ path, kind: "value", count: 40, rate: 0.2, noiseRate: 0, ignored: false, counts: true }],
    });
    const noise = {
      sampled: 15,
      routes: [{ route: "GET /", sampled: 15 }],
      fields: [{ route: "GET /", path, kind: "value" as const, rate: 1 }],
    };
    const noisy = { ...report([odd]), noise };
    const printed = [...formatFailures(noisy), formatNoise(noisy)].join("\n");
    expect(printed).not.toMatch(/[\u007f-\u009f]/);
    expect(printed).toContain('body["\\x9b2J\\x7f"]');
  });

  it("counts a canary's pairs in the tables' number format, and says nothing of shadows that answered nobody", () => {
    const canary = shadow({ requests: { ...requests({ same: 1614 }), canary: 111 } });
    expect(formatCanaryPairs(report([canary, shadow({ version: "3.0.0" })]))).toEqual([
      "2.0.0 answered 111 of its 1,614 requests as a canary (main got copies of the reads, of writes only with canaryWrites)",
    ]);
  });

  it("what main against itself learnt", () => {
    expect(formatNoise(report([]))).toBeUndefined();
    const noisy = {
      ...report([]),
      noise: {
        sampled: 15,
        routes: [{ route: "GET /", sampled: 15 }],
        fields: [{ route: "GET /", path: "body.time", kind: "value" as const, rate: 1 }],
      },
    };
    expect(formatNoise(noisy)).toBe("Noise (main against itself, 15 copies): body.time (value) 100%");
    // One copy is a copy (the guide's transcript after a promotion printed "1 copies").
    const once = { ...noisy, noise: { ...noisy.noise, sampled: 1 } };
    expect(formatNoise(once)).toBe("Noise (main against itself, 1 copy): body.time (value) 100%");
  });
});

describe("one baseline for main's numbers", () => {
  const served = {
    ...report([shadow({}), failing]),
    mainTraffic: {
      requests: 2_000,
      status: { "2xx": 1_990, "3xx": 0, "4xx": 6, "5xx": 4 },
      latencyMs: latency(40.1, 109.7),
    },
  };

  it("main's row is main's own traffic: its 5xx share and its latency, whichever shadow saw more", () => {
    expect(mainNumbers(served)).toEqual({ errorRate: 0.002, p50: 40.1, p99: 109.7 });
    expect(formatReportTable(served, 100).split("\n")[2]).toBe(
      "1.0.0      -       -            -        -               -       0.2%          40 ms   110 ms  main",
    );
  });

  it("assign's line prints the same main p99 and error rate as the report, for any shadow", () => {
    for (const judged of [shadow({}), failing]) {
      expect(verdictLine("hello", judged, 100, "1h", mainNumbers(served))).toMatch(
        /vs 0\.2% on main, p99 .* vs 110 ms$/,
      );
    }
  });

  it("the line above the table says which main and since when, in local time", () => {
    const since = "2026-11-26T09:12:00.000Z";
    expect(baselineLine(served)).toBe(
      `Against main 1.0.0 since ${formatLocalTimestamp(since)}: 2,000 requests to main`,
    );
    const former = { ...served, main: "2.0.0", baseline: { main: "1.0.0", since, until: "2026-11-26T10:42:00.000Z" } };
    expect(baselineLine(former)).toBe(
      `Against former main 1.0.0 since ${formatLocalTimestamp(since)} until ${formatLocalTimestamp("2026-11-26T10:42:00.000Z")}`,
    );
    expect(baselineLine({ ...served, baseline: { main: "1.0.0", since: null } })).toBe(
      "Against main 1.0.0 (no evidence yet): 2,000 requests to main",
    );
  });
});

describe("assign's verdict line", () => {
  it("pass, with the numbers beside main's", () => {
    expect(verdictLine("hello", shadow({}), 100)).toBe(
      "Evidence for hello 2.0.0 (last 1h): pass — 1,204 compared, 0.17% different (at most 0.6%), errors 0.08% vs 0.08% on main, p99 118 ms vs 112 ms",
    );
  });

  it("fail", () => {
    expect(verdictLine("hello", failing, 100)).toBe(
      "Evidence for hello 3.0.0 (last 1h): fail — 200 compared, 20% different (at least 15.03%), errors 0% vs 0% on main, p99 5.1 ms vs 4.5 ms",
    );
  });

  it("a shadow that never answered has no latency to show", () => {
    const dead = shadow({
      verdict: "fail",
      requests: requests({ error: 5, down: 145 }),
      errors: { main: 0, shadow: 5 },
      confidence: confidence({ diffRate: null, latencySamples: 0 }),
    });
    expect(verdictLine("hello", dead, 100)).toBe(
      "Evidence for hello 2.0.0 (last 1h): fail — 0 compared, 0% different, errors 100% vs 0% on main, no latency measured",
    );
  });

  it("inconclusive says how far from a verdict, and that it proceeds", () => {
    const few = shadow({
      verdict: "inconclusive",
      reasons: [
        "12 copies with an outcome, fewer than the 100 the gate needs",
        "about 88 more requests at these rates would pass it",
      ],
      requests: requests({ same: 12 }),
    });
    expect(verdictLine("hello", few, 100)).toBe(
      "Evidence for hello 2.0.0 (last 1h): inconclusive (12/100 with an outcome) — about 88 more requests at these rates would pass it; the gate lets it through with a warning",
    );
  });
});

import { describe, expect, it } from "vitest";
import type { Difference } from "../../src/evidence/compare.ts";
import { LatencyHistogram } from "../../src/evidence/histogram.ts";
import { noiseExcuses } from "../../src/evidence/verdict/noise.ts";
import {
  defaultPolicy,
  isIgnored,
  judge,
  NOISE_MIN_TWINS,
  type NoiseEvidence,
  noiseKey,
  noiseReport,
  OTHER_ROUTES,
  parseSignature,
  type ShadowEvidence,
  shadowReport,
  signatureOf,
  withDefaults,
} from "../../src/evidence/verdict.ts";

function latencies(ms: number, count: number): LatencyHistogram {
  const histogram = new LatencyHistogram();
  histogram.add(ms, count);
  return histogram;
}

/** `compared` requests with the given signatures (on route "" unless named), main and shadow both at 20 ms. */
function evidence(
  compared: number,
  signatures: [Difference[], number, string?][] = [],
  extra: Partial<ShadowEvidence> = {},
) {
  return {
    version: "2.0.0",
    mirrored: compared,
    compared,
    notCompared: 0,
    errorsShadow: 0,
    down: 0,
    canary: 0,
    skipped: 0,
    unrecorded: 0,
    errorsMain: 0,
    errorsShadowOnly: 0,
    errorsMainOnly: 0,
    latencyMain: latencies(20, compared),
    latencyShadow: latencies(20, compared),
    signatures: new Map(signatures.map(([differences, count, route]) => [signatureOf(differences, route), count])),
    partialSignatures: new Map(),
    routes: new Map(),
    ...extra,
  } satisfies ShadowEvidence;
}

const noNoise: NoiseEvidence = { sampled: 0, routes: new Map(), paths: new Map() };
/** Main against itself on route "" (the route of signatures written without one): `count` of `sampled` differ at `field`. */
const noiseOn = (sampled: number, field: string, count: number): NoiseEvidence => ({
  sampled,
  routes: new Map([["", sampled]]),
  paths: new Map([[`\t${field}`, count]]),
});
const price: Difference = { path: "body.price", kind: "value" };
const time: Difference = { path: "body.time", kind: "value" };

describe("policy", () => {
  it("has the documented defaults, and fills in what a stored policy leaves out", () => {
    expect(defaultPolicy).toEqual({
      ignore: [],
      noisePercent: 5,
      gate: {
        minRequests: 100,
        maxDiffRate: 0.01,
        maxErrorRateIncrease: 0.01,
        maxP99Ratio: 1.5,
        passP99Ratio: 2,
        minP99DeltaMs: 25,
        alpha: 0.01,
      },
    });
    const policy = withDefaults({ ignore: ["body.time"], gate: { minRequests: 10 } });
    expect(policy.ignore).toEqual(["body.time"]);
    expect(policy.noisePercent).toBe(5);
    expect(policy.gate).toEqual({ ...defaultPolicy.gate, minRequests: 10 });
  });

  it("ignores a path and everything under it, but not a sibling that shares a prefix", () => {
    expect(isIgnored("body.time", ["body.time"])).toBe(true);
    expect(isIgnored("body.meta.time", ["body.meta"])).toBe(true);
    expect(isIgnored("body.meta[].id", ["body.meta"])).toBe(true);
    expect(isIgnored("body.metadata", ["body.meta"])).toBe(false);
    expect(isIgnored("header.etag", [])).toBe(false);
  });
});

describe("noise per route", () => {
  const data = { path: "body.data", kind: "value" } as const;
  /** 1,000 requests on each of GET /clock and GET /orders; body.data differs on `clock` and `orders` of them. */
  const twoRoutes = (clock: number, orders: number) =>
    evidence(
      2000,
      [
        [[data], clock, "GET /clock"],
        [[data], orders, "GET /orders"],
      ],
      {
        routes: new Map([
          ["GET /clock", 1000],
          ["GET /orders", 1000],
        ]),
      },
    );
  const clockNoise = (twins: number): NoiseEvidence => ({
    sampled: 2 * twins,
    routes: new Map([
      ["GET /clock", twins],
      ["GET /orders", twins],
    ]),
    paths: new Map([[noiseKey("GET /clock", data), twins]]),
  });

  it("noise on /clock excuses body.data there, and nothing on /orders", () => {
    const report = shadowReport(twoRoutes(1000, 90), clockNoise(100), defaultPolicy);
    // Only /orders' 90 count: 9 % of /orders, 4.5 % of all compared requests.
    expect(report.requests.different).toBe(90);
    expect(report.fields).toEqual([expect.objectContaining({ path: "body.data", count: 1090, counts: true })]);
    expect(report.verdict).toBe("fail");
    const clockOnly = shadowReport(twoRoutes(1000, 0), clockNoise(100), defaultPolicy);
    expect(clockOnly.requests.different).toBe(0);
    expect(clockOnly.fields[0]).toMatchObject({ counts: false, noiseRate: 1 });
  });

  it("excuses nothing before a route's noise is bounded: 10 twin copies at least, and a band on it at most 0.5 wide", () => {
    expect(NOISE_MIN_TWINS).toBe(10);
    // Nine twins that all differ are too few; twelve bound main's rate to within half.
    expect(noiseExcuses("GET /clock", { count: 100, total: 100 }, { count: 9, total: 9 }, 0.01)).toBe(false);
    expect(noiseExcuses("GET /clock", { count: 100, total: 100 }, { count: 12, total: 12 }, 0.01)).toBe(true);
    expect(shadowReport(twoRoutes(1000, 0), clockNoise(9), defaultPolicy).requests.different).toBe(1000);
    // One odd twin in twelve bounds nothing: it excuses not even a shadow that differs on 5 %.
    expect(noiseExcuses("GET /a", { count: 50, total: 1000 }, { count: 1, total: 12 }, 0.01)).toBe(false);
  });

  it("excuses only while the shadow's rate is not clearly above the noise, by both bands", () => {
    // Main differs from itself on half its twins: a shadow at 55 % is not clearly above that on 400 twins…
    expect(noiseExcuses("GET /a", { count: 550, total: 1000 }, { count: 200, total: 400 }, 0.01)).toBe(true);
    // …a shadow at 90 % is.
    expect(noiseExcuses("GET /a", { count: 900, total: 1000 }, { count: 200, total: 400 }, 0.01)).toBe(false);
    // Routes past the cap share one route, whose noise excuses nothing.
    expect(noiseExcuses(OTHER_ROUTES, { count: 1, total: 1000 }, { count: 400, total: 400 }, 0.01)).toBe(false);
  });
});

describe("signatures", () => {
  it("are the same whatever order the differences came in, and read back", () => {
    const a = signatureOf([time, price]);
    expect(a).toBe(signatureOf([price, time]));
    expect(parseSignature(a)).toEqual([price, time]);
    expect(parseSignature(signatureOf([{ path: 'body["a b"]', kind: "extra" }]))).toEqual([
      { path: 'body["a b"]', kind: "extra" },
    ]);
    expect(parseSignature("")).toEqual([]);
  });
});

describe("shadowReport", () => {
  it("gives a field's rate over compared requests, and fails a shadow above maxDiffRate", () => {
    const report = shadowReport(evidence(1000, [[[price], 100]]), noNoise, defaultPolicy);
    expect(report.requests).toEqual({
      mirrored: 1000,
      compared: 1000,
      same: 900,
      different: 100,
      error: 0,
      notCompared: 0,
      down: 0,
      skipped: 0,
      unrecorded: 0,
      canary: 0,
    });
    expect(report.fields).toEqual([
      { path: "body.price", kind: "value", count: 100, rate: 0.1, noiseRate: 0, ignored: false, counts: true },
    ]);
    expect(report.verdict).toBe("fail");
    expect(report.reasons.join(" ")).toMatch(
      /^100 of 1,000 compared requests differ \(10%, at least \d+(\.\d+)?% at any look\), more than the 1% allowed/,
    );
    expect(report.confidence.diffRate?.low).toBeGreaterThan(0.01);
    expect(report.reasons.join(" ")).toContain("body.price (value, 10%)");
  });

  it("counts a request once however many of its fields differ", () => {
    const report = shadowReport(
      evidence(1000, [
        [[price, time], 30],
        [[price], 20],
        [[time], 10],
      ]),
      noNoise,
      defaultPolicy,
    );
    expect(report.requests.different).toBe(60);
    expect(report.fields.map((f) => [f.path, f.count])).toEqual([
      ["body.price", 50],
      ["body.time", 40],
    ]);
  });

  it("lets a field that differs as often as main differs from itself pass as noise", () => {
    const noise = noiseOn(50, "body.time value", 50);
    const report = shadowReport(evidence(1000, [[[time], 1000]]), noise, defaultPolicy);
    expect(report.fields[0]).toMatchObject({ path: "body.time", rate: 1, noiseRate: 1, counts: false });
    expect(report.requests.different).toBe(0);
    expect(report.requests.same).toBe(1000);
    expect(report.verdict).toBe("pass");
  });

  it("still counts the noisy request's other, real difference", () => {
    const noise = noiseOn(50, "body.time value", 50);
    const report = shadowReport(
      evidence(1000, [
        [[time], 900],
        [[time, price], 100],
      ]),
      noise,
      defaultPolicy,
    );
    expect(report.requests.different).toBe(100);
    expect(report.verdict).toBe("fail");
  });

  it("never counts an ignored path, and shows it as ignored", () => {
    const report = shadowReport(evidence(1000, [[[time], 1000]]), noNoise, withDefaults({ ignore: ["body.time"] }));
    expect(report.fields[0]).toMatchObject({ path: "body.time", ignored: true, counts: false });
    expect(report.requests.different).toBe(0);
    expect(report.verdict).toBe("pass");
  });

  it("is inconclusive below minRequests copies with an outcome, whatever the differences", () => {
    const report = shadowReport(evidence(99, [[[price], 99]]), noNoise, defaultPolicy);
    expect(report.verdict).toBe("inconclusive");
    expect(report.reasons).toEqual([
      "99 copies with an outcome, fewer than the 100 the gate needs",
      expect.stringMatching(/^about \d+ more requests at these rates would fail it$/),
    ]);
  });

  it("fails on the paired error difference once it is clearly more than maxErrorRateIncrease", () => {
    const failing = shadowReport(
      evidence(1000, [], { errorsMain: 10, errorsShadow: 50, errorsShadowOnly: 50, errorsMainOnly: 10 }),
      noNoise,
      defaultPolicy,
    );
    expect(failing.verdict).toBe("fail");
    expect(failing.reasons).toEqual([
      expect.stringMatching(
        /^shadow error rate 5% \(50 errors, 0 down, of 1,000\) against main's 1% on the same requests: \+4 points, at least \+\d+(\.\d+)? points at any look, more than the \+1 points allowed$/,
      ),
    ]);
    expect(failing.confidence.errorIncrease).toMatchObject({ rate: 0.04 });
    expect(failing.confidence.errorIncrease.low).toBeGreaterThan(0.01);
  });

  it("does not take main's error rate as exact: the same 1 % on both sides passes only once the band is narrow", () => {
    const pairs = (n: number) =>
      evidence(n, [], {
        errorsMain: n / 100,
        errorsShadow: n / 100,
        errorsShadowOnly: n / 100,
        errorsMainOnly: n / 100,
      });
    const early = shadowReport(pairs(1000), noNoise, defaultPolicy);
    expect(early.verdict).toBe("inconclusive");
    expect(early.reasons[0]).toMatch(
      /between -\d+(\.\d+)? points and \+\d+(\.\d+)? points at any look, not yet clearly/,
    );
    expect(early.reasons.at(-1)).toMatch(/^about [\d,]+ more requests at these rates would pass it$/);
    expect(shadowReport(pairs(5000), noNoise, defaultPolicy).verdict).toBe("pass");
  });

  it("fails on latency only when it is both maxP99Ratio times and minP99DeltaMs over main's, by the bands", () => {
    const slow = shadowReport(
      evidence(1000, [], { latencyMain: latencies(100, 1000), latencyShadow: latencies(200, 1000) }),
      noNoise,
      defaultPolicy,
    );
    expect(slow.verdict).toBe("fail");
    expect(slow.reasons[0]).toMatch(
      /^shadow p99 between [\d.]+ ms and [\d.]+ ms against main's between [\d.]+ ms and [\d.]+ ms on the same requests \(at any look\): more than 1.5× and 25 ms slower$/,
    );
    const fastButDoubled = shadowReport(
      evidence(1000, [], { latencyMain: latencies(1.5, 1000), latencyShadow: latencies(3, 1000) }),
      noNoise,
      defaultPolicy,
    );
    expect(fastButDoubled.verdict).toBe("pass");
    const slowerButWithinRatio = shadowReport(
      evidence(1000, [], { latencyMain: latencies(100, 1000), latencyShadow: latencies(140, 1000) }),
      noNoise,
      defaultPolicy,
    );
    expect(slowerButWithinRatio.verdict).toBe("pass");
  });

  it("fails a shadow 13× slower at the median even when main's tail is noisy (the median rule)", () => {
    const spiky = new LatencyHistogram();
    spiky.add(3, 990);
    spiky.add(2000, 10);
    const report = shadowReport(
      evidence(1000, [], { latencyMain: spiky, latencyShadow: latencies(40, 1000) }),
      noNoise,
      defaultPolicy,
    );
    expect(report.verdict).toBe("fail");
    expect(report.reasons).toEqual([expect.stringMatching(/^shadow median between 39.\d ms and 40.\d ms/)]);
    expect(report.confidence.latencyMs.p99.main.high).toBeGreaterThan(1900);
  });

  it("passes with a reason per rule, giving the numbers and the upper bounds", () => {
    const report = shadowReport(evidence(2000, [[[price], 5]]), noNoise, defaultPolicy);
    expect(report.verdict).toBe("pass");
    expect(report.reasons).toHaveLength(4);
    expect(report.reasons[0]).toMatch(
      /^5 of 2,000 compared requests differ \(0.25%, at most 0.\d+% at any look\), within 1%$/,
    );
    expect(report.confidence).toMatchObject({ alpha: 0.01, anytime: true, moreRequests: null });
  });

  it("gives every failing rule when several fail", () => {
    const { verdict, reasons } = judge(
      {
        requests: {
          mirrored: 200,
          compared: 100,
          same: 50,
          different: 50,
          error: 100,
          notCompared: 0,
          down: 0,
          skipped: 0,
          unrecorded: 0,
          canary: 0,
        },
        errors: { main: 0, shadow: 100 },
        pairs: { shadowOnly: 100, mainOnly: 0 },
        latencyMain: latencies(10, 200),
        latencyShadow: latencies(100, 200),
        fields: [],
      },
      defaultPolicy.gate,
    );
    expect(verdict).toBe("fail");
    expect(reasons).toHaveLength(3);
    expect(reasons.map((r) => r.split(" ")[0])).toEqual(["50", "shadow", "shadow"]);
  });
});

describe("bands that hold at any look", () => {
  const gate = defaultPolicy.gate;
  /** `n` compared requests of which `k` differ at body.price. */
  const diffs = (k: number, n: number) =>
    shadowReport(evidence(n, k > 0 ? [[[price], k]] : []), noNoise, defaultPolicy);

  it("are wider for 1 in 20 than for 50 in 1,000, and narrow as evidence grows", () => {
    const few = diffs(1, 20).confidence.diffRate;
    const many = diffs(50, 1000).confidence.diffRate;
    expect(few?.rate).toBe(many?.rate);
    expect((few?.high ?? 0) - (few?.low ?? 0)).toBeGreaterThan(5 * ((many?.high ?? 0) - (many?.low ?? 1)));
    expect(diffs(0, 2000).confidence.diffRate?.high).toBeLessThan(0.01);
    expect(diffs(0, 100).confidence.diffRate?.high).toBeGreaterThan(0.01);
  });

  it("is inconclusive on 2 differences in 30 at maxDiffRate 0.01, saying more requests would decide it", () => {
    expect(gate.maxDiffRate).toBe(0.01);
    const report = diffs(2, 30);
    expect(report.verdict).toBe("inconclusive");
    expect(report.reasons.join(" ")).toMatch(/about \d+ more requests at these rates would fail it/);
    expect(report.confidence.moreRequests).toBeGreaterThanOrEqual(70);
  });

  it("passes 0 differences in 2,000", () => {
    const report = diffs(0, 2000);
    expect(report.verdict).toBe("pass");
    expect(report.confidence.diffRate?.high).toBeLessThan(0.01);
  });

  it("fails 60 differences in 600", () => {
    const report = diffs(60, 600);
    expect(report.verdict).toBe("fail");
    expect(report.confidence.diffRate?.low).toBeGreaterThan(0.01);
  });

  it("says how many more requests would pass a clean shadow, and that many do", () => {
    const report = diffs(0, 240);
    expect(report.verdict).toBe("inconclusive");
    expect(report.reasons).toEqual([
      expect.stringMatching(/^0 of 240 compared requests differ \(0%, between 0% and [\d.]+% at any look\)/),
      expect.stringMatching(/^shadow error rate 0% \(0 errors, 0 down, of 240\) against main's 0%/),
      expect.stringMatching(/^shadow p99 between 19.9 ms and unbounded against main's/),
      expect.stringMatching(/^about [\d,]+ more requests at these rates would pass it$/),
    ]);
    const more = report.confidence.moreRequests ?? 0;
    expect(more).toBeGreaterThan(100);
    // The estimate comes from the same tests: that many more requests at the same rates decide it.
    expect(diffs(0, 240 + Math.ceil(more * 1.05)).verdict).toBe("pass");
    expect(diffs(0, 240 + Math.floor(more * 0.7)).verdict).toBe("inconclusive");
  });

  it("with no copies yet, projects no rates: it says none arrived and the least a clean twin needs, by the same tests", () => {
    const report = diffs(0, 0);
    expect(report.verdict).toBe("inconclusive");
    expect(report.confidence.moreRequests).toBeNull();
    const last = report.reasons.at(-1) ?? "";
    expect(last).not.toMatch(/at these rates/);
    const least = Number(
      /^no copies have arrived yet; a shadow identical to main would need at least ([\d,]+) to pass$/
        .exec(last)?.[1]
        ?.replaceAll(",", ""),
    );
    expect(least).toBeGreaterThan(defaultPolicy.gate.minRequests);
    // An identical twin (at 100 ms on both sides, past the additive floor) passes at that many, not well before.
    const twin = (n: number) =>
      shadowReport(
        evidence(n, [], { latencyMain: latencies(100, n), latencyShadow: latencies(100, n) }),
        noNoise,
        defaultPolicy,
      ).verdict;
    expect(twin(Math.ceil(least * 1.05))).toBe("pass");
    expect(twin(Math.floor(least * 0.7))).toBe("inconclusive");
  });

  it("never passes when no body could be compared, however many answered", () => {
    const overCap = shadowReport(evidence(0, [], { mirrored: 5000, notCompared: 5000 }), noNoise, defaultPolicy);
    expect(overCap.requests).toMatchObject({ mirrored: 5000, compared: 0, notCompared: 5000 });
    expect(overCap.verdict).toBe("inconclusive");
    expect(overCap.reasons[0]).toBe(
      "0 compared requests, fewer than the 100 the gate needs; 5,000 answered but could not be compared (bodies over the cap, streamed, or past the memory bound)",
    );
  });

  it("judges a status difference on a body it could not compare: different, not notCompared", () => {
    const status: Difference = { path: "status", kind: "value" };
    const report = shadowReport(
      evidence(0, [], {
        mirrored: 1000,
        notCompared: 1000,
        partialSignatures: new Map([[signatureOf([status]), 1000]]),
      }),
      noNoise,
      defaultPolicy,
    );
    expect(report.requests).toMatchObject({ compared: 1000, different: 1000, same: 0, notCompared: 0 });
    expect(report.verdict).toBe("fail");
  });

  it("holds back a pass while 1 % or more of requests lost their field detail", () => {
    const lossy = shadowReport(
      evidence(1000, [], { mirrored: 1020, notCompared: 20, unrecorded: 20 }),
      noNoise,
      defaultPolicy,
    );
    expect(lossy.verdict).toBe("inconclusive");
    expect(lossy.reasons.join(" ")).toContain("20 of 1,020 requests lost their field detail");
  });
});

describe("failures count", () => {
  it("fails a dead shadow on its down copies once minRequests have an outcome", () => {
    const dead = (down: number, errors: number) =>
      shadowReport(
        evidence(0, [], {
          mirrored: errors,
          errorsShadow: errors,
          errorsShadowOnly: errors,
          down,
          latencyMain: latencies(20, 0),
          latencyShadow: latencies(20, 0),
        }),
        noNoise,
        defaultPolicy,
      );
    const early = dead(90, 5);
    expect(early.verdict).toBe("inconclusive");
    expect(early.reasons[0]).toBe("95 copies with an outcome, fewer than the 100 the gate needs");
    expect(dead(0, 1).reasons[0]).toBe("1 copy with an outcome, fewer than the 100 the gate needs");
    const judged = dead(145, 5);
    expect(judged.requests).toMatchObject({ mirrored: 5, error: 5, down: 145, compared: 0 });
    expect(judged.verdict).toBe("fail");
    expect(judged.confidence.errorRate).toMatchObject({ rate: 1 });
    expect(judged.reasons[0]).toContain("shadow error rate 100% (5 errors, 145 down, of 150)");
  });

  it("fails a hanging shadow on its timeouts", () => {
    const report = shadowReport(
      evidence(0, [], {
        mirrored: 120,
        errorsShadow: 120,
        errorsShadowOnly: 120,
        latencyShadow: latencies(1000, 120),
        latencyMain: latencies(5, 120),
      }),
      noNoise,
      defaultPolicy,
    );
    expect(report.verdict).toBe("fail");
    expect(report.reasons).toHaveLength(2);
  });
});

describe("noise per (path, kind)", () => {
  it("excuses value differences where main's own value differs, but not a missing or retyped field", () => {
    const noise = noiseOn(100, "body.time value", 100);
    const missing: Difference = { path: "body.time", kind: "missing" };
    const retyped: Difference = { path: "body.time", kind: "type" };
    const report = shadowReport(
      evidence(1000, [
        [[time], 800],
        [[missing], 100],
        [[retyped], 100],
      ]),
      noise,
      defaultPolicy,
    );
    expect(report.fields).toEqual([
      { path: "body.time", kind: "value", count: 800, rate: 0.8, noiseRate: 1, ignored: false, counts: false },
      { path: "body.time", kind: "missing", count: 100, rate: 0.1, noiseRate: 0, ignored: false, counts: true },
      { path: "body.time", kind: "type", count: 100, rate: 0.1, noiseRate: 0, ignored: false, counts: true },
    ]);
    expect(report.requests.different).toBe(200);
    expect(report.verdict).toBe("fail");
  });

  it("counts a comparison cut short (body many) unless body itself is ignored", () => {
    const many: Difference = { path: "body", kind: "many" };
    const noise = noiseOn(100, "body many", 100);
    const cut = shadowReport(evidence(1000, [[[many], 100]]), noise, withDefaults({ ignore: ["body.items"] }));
    expect(cut.fields[0]).toMatchObject({ path: "body", kind: "many", counts: true });
    expect(cut.verdict).toBe("fail");
    const ignored = shadowReport(evidence(1000, [[[many], 100]]), noise, withDefaults({ ignore: ["body"] }));
    expect(ignored.fields[0]).toMatchObject({ ignored: true, counts: false });
    expect(ignored.requests.different).toBe(0);
  });
});

describe("noiseReport", () => {
  it("lists noisy fields by rate, each over its own route's twin copies", () => {
    expect(
      noiseReport({
        sampled: 30,
        routes: new Map([
          ["GET /a", 10],
          ["GET /b", 20],
        ]),
        paths: new Map([
          ["GET /a\tbody.id value", 2],
          ["GET /b\tbody.time value", 20],
        ]),
      }),
    ).toEqual({
      sampled: 30,
      routes: [
        { route: "GET /b", sampled: 20 },
        { route: "GET /a", sampled: 10 },
      ],
      fields: [
        { route: "GET /b", path: "body.time", kind: "value", rate: 1 },
        { route: "GET /a", path: "body.id", kind: "value", rate: 0.2 },
      ],
    });
  });
});

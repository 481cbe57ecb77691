import { describe, expect, it } from "vitest";
import type { Difference } from "../../src/evidence/compare.ts";
import { LatencyHistogram } from "../../src/evidence/histogram.ts";
import {
  defaultPolicy,
  exceedsNoise,
  isIgnored,
  judge,
  type NoiseEvidence,
  noiseReport,
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

/** `compared` clean requests plus the given signatures, main and shadow both at 20 ms. */
function evidence(compared: number, signatures: [Difference[], number][] = [], extra: Partial<ShadowEvidence> = {}) {
  return {
    version: "2.0.0",
    mirrored: compared,
    compared,
    notCompared: 0,
    skipped: 0,
    errorsMain: 0,
    errorsShadow: 0,
    latencyMain: latencies(20, compared),
    latencyShadow: latencies(20, compared),
    signatures: new Map(signatures.map(([differences, count]) => [signatureOf(differences), count])),
    ...extra,
  } satisfies ShadowEvidence;
}

const noNoise: NoiseEvidence = { sampled: 0, paths: new Map() };
const price: Difference = { path: "body.price", kind: "value" };
const time: Difference = { path: "body.time", kind: "value" };

describe("policy", () => {
  it("has the documented defaults, and fills in what a stored policy leaves out", () => {
    expect(defaultPolicy).toEqual({
      ignore: [],
      noisePercent: 5,
      gate: { minRequests: 100, maxDiffRate: 0.01, maxErrorRateIncrease: 0.01, maxP99Ratio: 1.5, minP99DeltaMs: 25 },
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

describe("noise rule", () => {
  it("counts a field only when it beats its noise rate by 20 % relative and 0.03 % absolute", () => {
    expect(exceedsNoise(0.1, 0)).toBe(true);
    expect(exceedsNoise(0.0003, 0)).toBe(false);
    expect(exceedsNoise(0.0004, 0)).toBe(true);
    expect(exceedsNoise(1, 1)).toBe(false);
    expect(exceedsNoise(0.5, 0.45)).toBe(false);
    expect(exceedsNoise(0.55, 0.45)).toBe(true);
    expect(exceedsNoise(0.3, 0.45)).toBe(false);
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
      notCompared: 0,
      skipped: 0,
    });
    expect(report.fields).toEqual([
      { path: "body.price", kind: "value", count: 100, rate: 0.1, noiseRate: 0, ignored: false, counts: true },
    ]);
    expect(report.verdict).toBe("fail");
    expect(report.reasons.join(" ")).toContain("10% of compared requests differ (100 of 1,000)");
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
    const noise: NoiseEvidence = { sampled: 50, paths: new Map([["body.time", 50]]) };
    const report = shadowReport(evidence(1000, [[[time], 1000]]), noise, defaultPolicy);
    expect(report.fields[0]).toMatchObject({ path: "body.time", rate: 1, noiseRate: 1, counts: false });
    expect(report.requests.different).toBe(0);
    expect(report.requests.same).toBe(1000);
    expect(report.verdict).toBe("pass");
  });

  it("still counts the noisy request's other, real difference", () => {
    const noise: NoiseEvidence = { sampled: 50, paths: new Map([["body.time", 50]]) };
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

  it("is inconclusive below minRequests compared, whatever the differences", () => {
    const report = shadowReport(evidence(99, [[[price], 99]]), noNoise, defaultPolicy);
    expect(report.verdict).toBe("inconclusive");
    expect(report.reasons).toEqual(["99 compared requests, fewer than the 100 the gate needs"]);
  });

  it("fails on an error rate more than maxErrorRateIncrease above main's", () => {
    const failing = shadowReport(evidence(1000, [], { errorsMain: 10, errorsShadow: 50 }), noNoise, defaultPolicy);
    expect(failing.verdict).toBe("fail");
    expect(failing.reasons).toEqual(["shadow error rate 5% against main's 1%, more than 1% above it"]);
    const close = shadowReport(evidence(1000, [], { errorsMain: 10, errorsShadow: 20 }), noNoise, defaultPolicy);
    expect(close.verdict).toBe("pass");
  });

  it("fails on p99 only when it is both maxP99Ratio times and minP99DeltaMs over main's", () => {
    const slow = shadowReport(
      evidence(1000, [], { latencyMain: latencies(100, 1000), latencyShadow: latencies(200, 1000) }),
      noNoise,
      defaultPolicy,
    );
    expect(slow.verdict).toBe("fail");
    expect(slow.reasons[0]).toMatch(/^shadow p99 \d+(\.\d)? ms against main's \d+(\.\d)? ms/);
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

  it("passes with a reason per rule, giving the numbers", () => {
    const report = shadowReport(evidence(1000, [[[price], 5]]), noNoise, defaultPolicy);
    expect(report.verdict).toBe("pass");
    expect(report.reasons).toHaveLength(3);
    expect(report.reasons[0]).toBe("0.5% of compared requests differ (5 of 1,000), within 1%");
  });

  it("gives every failing rule when several fail", () => {
    const { verdict, reasons } = judge(
      {
        requests: { mirrored: 200, compared: 200, same: 100, different: 100, notCompared: 0, skipped: 0 },
        errors: { main: 0, shadow: 100 },
        latencyMs: { main: { p50: 1, p95: 1, p99: 10 }, shadow: { p50: 1, p95: 1, p99: 100 } },
        fields: [],
      },
      defaultPolicy.gate,
    );
    expect(verdict).toBe("fail");
    expect(reasons).toHaveLength(3);
  });
});

describe("noiseReport", () => {
  it("lists noisy paths by rate", () => {
    expect(
      noiseReport({
        sampled: 10,
        paths: new Map([
          ["body.id", 2],
          ["body.time", 10],
        ]),
      }),
    ).toEqual({
      sampled: 10,
      fields: [
        { path: "body.time", rate: 1 },
        { path: "body.id", rate: 0.2 },
      ],
    });
  });
});

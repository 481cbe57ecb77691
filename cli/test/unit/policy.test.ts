import { describe, expect, it } from "vitest";
import type { EvidencePolicy } from "../../src/client.ts";
import { UsageError } from "../../src/errors.ts";
import { changesPolicy, checkRedactPaths, formatPolicy, numberFlag, planPolicyChange } from "../../src/policy.ts";

const stored: EvidencePolicy = {
  ignore: ["body.time", "header.etag"],
  headers: [],
  noisePercent: 5,
  redact: ["query.user"],
  rules: [],
  gate: {
    minRequests: 100,
    maxDiffRate: 0.01,
    maxErrorRateIncrease: 0.01,
    maxP99Ratio: 1.5,
    passP99Ratio: 2,
    minP99DeltaMs: 25,
    alpha: 0.01,
  },
  capture: null,
  notify: null,
};

const none = { ignore: [], unignore: [], redact: [], unredact: [] };

describe("policy flags", () => {
  it("no flag means show, any flag means change", () => {
    expect(changesPolicy(none)).toBe(false);
    expect(changesPolicy({ ...none, ignore: ["body.a"] })).toBe(true);
    expect(changesPolicy({ ...none, unredact: ["query.user"] })).toBe(true);
    expect(changesPolicy({ ...none, minP99Delta: "10" })).toBe(true);
  });

  it("edits the ignore list path by path, never sending it whole: adds once, --unignore wins", () => {
    const { change, notIgnored } = planPolicyChange(stored, {
      ...none,
      ignore: ["body.price", "body.time", "body.price", "body.gone"],
      unignore: ["header.etag", "body.nothing", "body.gone"],
    });
    expect(change).toEqual({
      ignoreAdd: ["body.price", "body.time"],
      ignoreRemove: ["header.etag", "body.nothing", "body.gone"],
    });
    expect(change).not.toHaveProperty("ignore");
    expect(notIgnored).toEqual(["body.nothing", "body.gone"]);
  });

  it("edits the redact list the same way, and says which --unredact fields were not listed", () => {
    const { change, notIgnored, notRedacted } = planPolicyChange(stored, {
      ...none,
      redact: ["body.email", "body.email", "query.q"],
      unredact: ["query.user", "query.q", "body.name"],
    });
    expect(change).toEqual({ redactAdd: ["body.email"], redactRemove: ["query.user", "query.q", "body.name"] });
    expect(change).not.toHaveProperty("redact");
    expect(notRedacted).toEqual(["query.q", "body.name"]);
    expect(notIgnored).toEqual([]);
  });

  it("a field no sample has is one line saying what a field looks like", () => {
    expect(() => checkRedactPaths({ redact: ["body.email", "header.x-user"], unredact: [] })).toThrow(
      new UsageError(
        '--redact takes a sample field, query.<parameter> or body.<json path> (such as query.user or body.email); got "header.x-user"',
      ),
    );
    expect(() => checkRedactPaths({ redact: [], unredact: ["email"] })).toThrow(/^--unredact takes a sample field/);
    expect(() => checkRedactPaths({ redact: ["query.user", "body.items[].email"], unredact: [] })).not.toThrow();
  });

  it("sends only the thresholds given, by the API's names; shares as fractions or percents", () => {
    const { change } = planPolicyChange(stored, {
      ...none,
      noisePercent: "10",
      minRequests: "50",
      maxDiffRate: "2%",
      maxErrorIncrease: "0.005",
      maxP99Ratio: "2",
      minP99Delta: "40",
    });
    expect(change).toEqual({
      noisePercent: 10,
      gate: { minRequests: 50, maxDiffRate: 0.02, maxErrorRateIncrease: 0.005, maxP99Ratio: 2, minP99DeltaMs: 40 },
    });
    expect(planPolicyChange(stored, { ...none, maxP99Ratio: "3" }).change).toEqual({ gate: { maxP99Ratio: 3 } });
  });

  it("a value that is no number is one line naming the flag; a number out of range is left to the API", () => {
    expect(() => numberFlag("min-requests", "lots")).toThrow(
      new UsageError('--min-requests takes a number; got "lots"'),
    );
    expect(() => numberFlag("max-diff-rate", "", { share: true })).toThrow(
      '--max-diff-rate takes a number (a fraction such as 0.01, or 1%); got ""',
    );
    expect(numberFlag("max-diff-rate", "7", { share: true })).toBe(7);
    expect(numberFlag("min-requests", undefined)).toBeUndefined();
  });
});

describe("the policy as printed", () => {
  it("one line per setting, named after its flag", () => {
    expect(formatPolicy(stored)).toEqual([
      "  ignore              body.time, header.etag",
      "  headers             (content-type only)",
      "  redact              query.user",
      "  noise-percent       5 (of mirrored GET and HEAD requests)",
      "  min-requests        100 (copies with an outcome, before a verdict)",
      "  max-diff-rate       0.01 (1%)",
      "  max-error-increase  0.01 (1%)",
      "  max-p99-ratio       1.5",
      "  pass-p99-ratio      2 (a pass needs p50 and p99 clearly within this × main's, or min-p99-delta)",
      "  min-p99-delta       25 ms",
      "  alpha               0.01 (the chance of failing a good shadow, however often it is read)",
      "  notify              (nowhere)",
    ]);
    expect(formatPolicy({ ...stored, ignore: [], headers: ["etag"], redact: [] }).slice(0, 3)).toEqual([
      "  ignore              (nothing)",
      "  headers             etag",
      "  redact              (credential-named fields only)",
    ]);
  });
});

import { describe, expect, it } from "vitest";
import type { EvidencePolicy } from "../../src/client.ts";
import { UsageError } from "../../src/errors.ts";
import { ruleFlags } from "../../src/field-rules.ts";
import { checkIgnorePaths, formatPolicy, planPolicyChange } from "../../src/policy.ts";

const stored: EvidencePolicy = {
  ignore: [],
  headers: [],
  noisePercent: 5,
  redact: [],
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

const flags = (...rawArgs: string[]) => ({ ignore: [], unignore: [], redact: [], unredact: [], ...ruleFlags(rawArgs) });

describe("rule flags", () => {
  it("turn into rules added and removed path by path, never the whole list", () => {
    const { change } = planPolicyChange(
      stored,
      flags(
        "--tolerance",
        "body.price=1e-6",
        "--tolerance-abs=body.price=0.01",
        "--unordered",
        "body.items:id,body.tags",
        "--present",
        "body.createdAt",
        "--format",
        "body.code=^[A-Z]{2,3}$",
        "--no-rule",
        "body.old",
      ),
    );
    expect(change).toEqual({
      rulesAdd: [
        { path: "body.price", match: "number", rel: 1e-6, abs: 0.01 },
        { path: "body.items", match: "unordered", key: "id" },
        { path: "body.tags", match: "unordered" },
        { path: "body.createdAt", match: "present" },
        { path: "body.code", match: "format", format: "^[A-Z]{2,3}$" },
      ],
      rulesRemove: ["body.old"],
    });
  });

  it("a path that is not a body field is one line with the path the user likely meant", () => {
    expect(() => planPolicyChange(stored, flags("--tolerance", "price=1e-6"))).toThrow(
      new UsageError(
        '--tolerance takes a body field path such as body.price or body.items[].id (* for any key); got "price": did you mean body.price?',
      ),
    );
    expect(() => planPolicyChange(stored, flags("--present", "items[0].createdAt"))).toThrow(
      /did you mean body\.items\[\]\.createdAt\?$/,
    );
    expect(() => planPolicyChange(stored, flags("--tolerance", "body.price=lots"))).toThrow(
      '--tolerance takes a tolerance of at least 0 after the =; got "lots"',
    );
    expect(() => planPolicyChange(stored, flags("--format", "body.id"))).toThrow(
      '--format takes PATH=FORMAT (such as body.price=uuid); got "body.id"',
    );
  });

  it("--ignore of a bare field name suggests its body path", () => {
    expect(() => checkIgnorePaths({ ignore: ["price"], unignore: [] })).toThrow(
      new UsageError(
        '--ignore takes a difference path: status, header.<name>, body or body.<field path> such as body.price; got "price": did you mean body.price?',
      ),
    );
    expect(() => checkIgnorePaths({ ignore: [], unignore: ["items[3].id"] })).toThrow(
      /did you mean body\.items\[\]\.id\?$/,
    );
    expect(() => checkIgnorePaths({ ignore: ["body.price", "header.etag"], unignore: [] })).not.toThrow();
  });

  it("the policy shows each rule in words, after the lists, only when there are rules", () => {
    expect(formatPolicy(stored).some((line) => line.includes("rules"))).toBe(false);
    const lines = formatPolicy({
      ...stored,
      rules: [
        { path: "body.price", match: "number", rel: 1e-6 },
        { path: "body.items", match: "unordered", key: "id" },
        { path: "body.createdAt", match: "present" },
        { path: "body.id", match: "format", format: "uuid" },
      ],
    });
    expect(lines.slice(3, 7)).toEqual([
      "  rules               body.price: a number, within rel 0.000001",
      "                      body.items: order does not matter, elements matched by id",
      "                      body.createdAt: only presence (and type) matters",
      "                      body.id: any value of format uuid",
    ]);
  });
});

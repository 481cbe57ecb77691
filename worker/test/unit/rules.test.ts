import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.ts";
import {
  type CanaryState,
  decideAssign,
  decideCanaryShare,
  decideDeploy,
  decideGate,
  decideKillName,
  decideKillVersion,
  decideTrafficChange,
  killEndsName,
  type VersionState,
} from "../../src/registry/rules.ts";

const main = (version: string): VersionState => ({ version, main: true });
const shadow = (version: string): VersionState => ({ version, main: false });

function refusal(decide: () => unknown): AppError {
  try {
    decide();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected the rule to refuse");
}

describe("deploy (I2, I5)", () => {
  it("makes the first version of a name its main", () => {
    expect(decideDeploy([], "hello", "1.0.0")).toEqual({ main: true });
  });

  it("makes every later version a shadow", () => {
    expect(decideDeploy([main("1.0.0")], "hello", "2.0.0")).toEqual({ main: false });
    expect(decideDeploy([main("1.0.0"), shadow("2.0.0")], "hello", "3.0.0")).toEqual({ main: false });
  });

  it("refuses a version that already exists with 409, main or shadow", () => {
    for (const existing of [[main("1.0.0")], [main("2.0.0"), shadow("1.0.0")]]) {
      const error = refusal(() => decideDeploy(existing, "hello", "1.0.0"));
      expect(error.status).toBe(409);
      expect(error.message).toContain("hello 1.0.0");
    }
  });
});

describe("assign (I6)", () => {
  it("moves main to an existing shadow and names the previous main", () => {
    expect(decideAssign([main("1.0.0"), shadow("2.0.0")], "hello", "2.0.0")).toEqual({
      change: true,
      previousMain: "1.0.0",
    });
  });

  it("is a no-op for the current main", () => {
    expect(decideAssign([main("1.0.0"), shadow("2.0.0")], "hello", "1.0.0")).toEqual({ change: false });
  });

  it("is 404 for a version or a name that does not exist", () => {
    expect(refusal(() => decideAssign([main("1.0.0")], "hello", "9.0.0")).status).toBe(404);
    expect(refusal(() => decideAssign([], "hello", "1.0.0")).status).toBe(404);
  });
});

describe("kill (I3, I4)", () => {
  it("refuses a main that has shadows with 403 naming every shadow", () => {
    const error = refusal(() => decideKillVersion([main("1.0.0"), shadow("2.0.0"), shadow("3.0.0")], "hello", "1.0.0"));
    expect(error.status).toBe(403);
    expect(error.message).toContain("hello 2.0.0");
    expect(error.message).toContain("hello 3.0.0");
    expect(error.message).toMatch(/assign another main/);
    expect(error.message).toMatch(/kill all versions of hello at once by name/);
  });

  it("lets shadows go freely, and a main that is the only version", () => {
    expect(() => decideKillVersion([main("1.0.0"), shadow("2.0.0")], "hello", "2.0.0")).not.toThrow();
    expect(() => decideKillVersion([main("1.0.0")], "hello", "1.0.0")).not.toThrow();
  });

  it("is 404 for an unknown version or name", () => {
    expect(refusal(() => decideKillVersion([main("1.0.0")], "hello", "2.0.0")).status).toBe(404);
    expect(refusal(() => decideKillVersion([], "hello", "1.0.0")).status).toBe(404);
    expect(refusal(() => decideKillName([], "hello")).status).toBe(404);
  });

  it("lets a name with shadows be killed as a whole", () => {
    expect(() => decideKillName([main("1.0.0"), shadow("2.0.0")], "hello")).not.toThrow();
  });
});

describe("killing forgets the name (its policy and evidence) only with its last version", () => {
  it("by name always, by version only when no other version is left", () => {
    expect(killEndsName([main("1.0.0"), shadow("2.0.0")])).toBe(true);
    expect(killEndsName([main("1.0.0")], "1.0.0")).toBe(true);
    expect(killEndsName([main("1.0.0"), shadow("2.0.0")], "2.0.0")).toBe(false);
  });
});

describe("traffic controls (T1)", () => {
  it("change on any deployed version, main or shadow", () => {
    expect(() => decideTrafficChange([main("1.0.0"), shadow("2.0.0")], "hello", "1.0.0")).not.toThrow();
    expect(() => decideTrafficChange([main("1.0.0"), shadow("2.0.0")], "hello", "2.0.0")).not.toThrow();
  });

  it("are 404 for an unknown version or name, saying which", () => {
    expect(refusal(() => decideTrafficChange([main("1.0.0")], "hello", "2.0.0")).code).toBe("version_not_found");
    expect(refusal(() => decideTrafficChange([], "hello", "1.0.0")).code).toBe("service_not_found");
  });
});

describe("canary shares (T2)", () => {
  const at = (version: string, canaryPercent: number, isMain = false): CanaryState => ({
    version,
    main: isMain,
    canaryPercent,
  });
  const name = [at("1.0.0", 0, true), at("2.0.0", 40), at("3.0.0", 0)];

  it("refuses shares that would add up to more than 50, naming the field, the total and each share", () => {
    const error = refusal(() => decideCanaryShare(name, "hello", { version: "3.0.0", main: false, canaryPercent: 40 }));
    expect(error.status).toBe(422);
    expect(error.field).toBe("canaryPercent");
    expect(error.message).toContain("add up to 80 % (2.0.0 40 %, 3.0.0 40 %)");
    expect(error.message).toContain("at most 50 %");
  });

  it("takes shares up to exactly 50, in hundredths (0.07 + 49.93 is 50, not 50.00000000000001)", () => {
    expect(() => decideCanaryShare(name, "hello", { version: "3.0.0", main: false, canaryPercent: 10 })).not.toThrow();
    const fine = [at("1.0.0", 0, true), at("2.0.0", 0.07)];
    expect(() =>
      decideCanaryShare(fine, "hello", { version: "3.0.0", main: false, canaryPercent: 49.93 }),
    ).not.toThrow();
  });

  it("counts a version's own share once: raising 2.0.0 from 40 to 50 is fine", () => {
    expect(() => decideCanaryShare(name, "hello", { version: "2.0.0", main: false, canaryPercent: 50 })).not.toThrow();
  });

  it("always lets a share go down, even when the stored shares are over the bound", () => {
    const over = [at("1.0.0", 0, true), at("2.0.0", 40), at("3.0.0", 40)];
    expect(() => decideCanaryShare(over, "hello", { version: "3.0.0", main: false, canaryPercent: 20 })).not.toThrow();
  });

  it("refuses any share on main, 0 aside", () => {
    const error = refusal(() => decideCanaryShare(name, "hello", { version: "1.0.0", main: true, canaryPercent: 5 }));
    expect([error.status, error.field]).toEqual([422, "canaryPercent"]);
    expect(error.message).toContain("it is main");
    expect(() => decideCanaryShare(name, "hello", { version: "1.0.0", main: true, canaryPercent: 0 })).not.toThrow();
  });
});

describe("the promotion gate (G1–G4)", () => {
  const options = { force: false, window: "1h" };
  const failing = { verdict: "fail", reasons: ["20% of compared requests differ"] } as const;

  it("lets a pass through without a warning", () => {
    expect(decideGate({ verdict: "pass", reasons: [] }, "hello", "2.0.0", options)).toEqual({});
  });

  it("refuses a fail with 409 gate_failed carrying the reasons, and says how to go on", () => {
    const error = refusal(() => decideGate(failing, "hello", "2.0.0", options));
    expect(error.status).toBe(409);
    expect(error.code).toBe("gate_failed");
    expect(error.reasons).toEqual(["20% of compared requests differ"]);
    expect(error.message).toContain("hello 2.0.0 (last 1h) fails the promotion gate");
    expect(error.message).toMatch(/policy.*force the promotion \(force: true\)/);
    // The reasons travel once, in `reasons`: a view that lists them and the message does not say them twice.
    expect(error.message).not.toContain("20% of compared requests differ");
    expect(error.toBody().error.reasons).toEqual(["20% of compared requests differ"]);
  });

  it("lets a forced fail through with a warning", () => {
    expect(decideGate(failing, "hello", "2.0.0", { ...options, force: true }).warning).toMatch(/force/);
  });

  it("lets inconclusive through with a warning that gives the reason, forced or not", () => {
    const evidence = {
      verdict: "inconclusive",
      reasons: ["12 compared requests, fewer than the 100 the gate needs"],
    } as const;
    const { warning } = decideGate(evidence, "hello", "2.0.0", options);
    expect(warning).toContain("12 compared requests");
    expect(decideGate(evidence, "hello", "2.0.0", { ...options, force: true }).warning).toBe(warning);
  });

  it("fails closed on unreadable evidence: 409 evidence_unavailable, which force overrides with a warning", () => {
    expect(() => decideGate({ unavailable: "timed out" }, "hello", "2.0.0", options)).toThrow(
      expect.objectContaining({ status: 409, code: "evidence_unavailable" }),
    );
    const forced = decideGate({ unavailable: "timed out" }, "hello", "2.0.0", { ...options, force: true });
    expect(forced.warning).toBe(
      "The evidence for hello 2.0.0 (last 1h) could not be read (timed out); main changed unchecked (promotion forced)",
    );
  });
});

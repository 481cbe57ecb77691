import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.ts";
import {
  decideAssign,
  decideDeploy,
  decideKillName,
  decideKillVersion,
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

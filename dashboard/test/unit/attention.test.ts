import { describe, expect, it } from "vitest";
import type { ServiceRecord, ShadowReport } from "../../src/api.ts";
import { attentionOf, firstToOpen, namesByAttention } from "../../src/attention.ts";

const record = (name: string, version: string, main: boolean, status: ServiceRecord["status"] = "running") =>
  ({ name, version, main, status }) as ServiceRecord;
const verdict = (version: string, value: ShadowReport["verdict"]) => ({ version, verdict: value }) as ShadowReport;

const services = [
  record("alpha", "1.0.0", true),
  record("alpha", "2.0.0", false),
  record("billing", "1.0.0", true),
  record("zeta", "1.0.0", true),
  record("zeta", "1.1.0", false),
  record("mail", "1.0.0", true, "unreachable"),
];

describe("what needs the operator first", () => {
  it("a failing shadow, then an unreachable origin, then every other name by name", () => {
    const verdicts = new Map([
      ["alpha", [verdict("2.0.0", "pass")]],
      ["zeta", [verdict("1.1.0", "fail")]],
    ]);
    expect(namesByAttention(services, verdicts)).toEqual(["zeta", "mail", "alpha", "billing"]);
    expect(attentionOf("zeta", services, verdicts)).toBe("fail");
    expect(attentionOf("mail", services, verdicts)).toBe("unreachable");
    expect(attentionOf("alpha", services, verdicts)).toBeUndefined();
    expect(firstToOpen(services, verdicts)).toBe("zeta");
  });

  it("a running rollout comes after failing and unreachable names, before the quiet ones", () => {
    const verdicts = new Map([["zeta", [verdict("1.1.0", "fail")]]]);
    const rolling = new Set(["billing"]);
    expect(namesByAttention(services, verdicts, rolling)).toEqual(["zeta", "mail", "billing", "alpha"]);
    expect(attentionOf("billing", services, verdicts, rolling)).toBe("rollout");
    // A failing name with a rollout is failing first.
    expect(attentionOf("zeta", services, verdicts, new Set(["zeta"]))).toBe("fail");
    const calm = services.filter((entry) => entry.name !== "mail" && entry.name !== "zeta");
    expect(firstToOpen(calm, new Map(), rolling)).toBe("billing");
  });

  it("an inconclusive shadow needs nobody yet; with nothing to flag, the page opens the first name with a shadow", () => {
    const quiet = services.filter((entry) => entry.name !== "mail");
    const verdicts = new Map([["zeta", [verdict("1.1.0", "inconclusive")]]]);
    expect(namesByAttention(quiet, verdicts)).toEqual(["alpha", "billing", "zeta"]);
    expect(
      firstToOpen(
        quiet.filter((entry) => entry.name !== "alpha"),
        verdicts,
      ),
    ).toBe("zeta");
    expect(firstToOpen([], new Map())).toBeUndefined();
  });
});

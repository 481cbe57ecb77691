import { describe, expect, it } from "vitest";
import type { AuditRow } from "../../src/client.ts";
import { describeChange, formatHistory } from "../../src/history.ts";
import { formatLocalTimestamp } from "../../src/table.ts";

const row = (overrides: Partial<AuditRow>): AuditRow => ({
  id: 1,
  at: "2026-11-30T10:28:18.000Z",
  actor: "admin-token",
  action: "deploy",
  name: "hello",
  version: "2.0.0",
  detail: {},
  ...overrides,
});

describe("history rows", () => {
  it("say what each change did", () => {
    expect(describeChange(row({ detail: { origin: "http://o", main: true, stripHeaders: [] } }))).toBe(
      "origin http://o, as main",
    );
    expect(describeChange(row({ detail: { origin: "http://o", main: false, stripHeaders: ["cookie"] } }))).toBe(
      "origin http://o, copies without cookie",
    );
    expect(describeChange(row({ action: "assign", detail: { from: "1.0.0", verdict: "pass", force: false } }))).toBe(
      "from 1.0.0, verdict pass",
    );
    // Force on a passing or inconclusive verdict overrode nothing, so it is not called forced.
    expect(describeChange(row({ action: "assign", detail: { from: "1.0.0", verdict: "pass", force: true } }))).toBe(
      "from 1.0.0, verdict pass",
    );
    expect(describeChange(row({ action: "assign", detail: { from: "1.0.0", verdict: "fail", force: true } }))).toBe(
      "from 1.0.0, verdict fail, FORCED over the failing gate",
    );
    expect(describeChange(row({ action: "kill", version: null, detail: { versions: ["1.0.0", "2.0.0"] } }))).toBe(
      "killed 1.0.0, 2.0.0",
    );
    expect(describeChange(row({ action: "traffic", detail: { mirrorPercent: 5 } }))).toBe("mirrorPercent 5");
  });

  it("say what a rollout's transitions did, as sentences like the others (not its JSON)", () => {
    const steps = [5, 25, 50];
    expect(describeChange(row({ action: "rollout", detail: { change: "started", step: 0, percent: 5, steps } }))).toBe(
      "started at step 1 of 3 (5 %), steps 5, 25, 50 %",
    );
    expect(
      describeChange(
        row({ action: "rollout", detail: { change: "advanced", step: 1, percent: 25, steps, verdict: "pass" } }),
      ),
    ).toBe("advanced to step 2 of 3 (25 %), verdict pass");
    expect(
      describeChange(
        row({
          action: "rollout",
          detail: { change: "aborted", step: 1, percent: 25, steps, verdict: "fail", reasons: ["error rate 40%"] },
        }),
      ),
    ).toBe("aborted at step 2 of 3 (25 %), verdict fail: error rate 40%");
  });

  it("print a whole-name change's version as -, and escape what people typed", () => {
    const table = formatHistory([
      row({
        action: "policy",
        version: null,
        actor: "access:ops\u001b[2J@example.com",
        detail: { ignore: ["body.t"] },
      }),
    ]);
    const [, , line] = table.split("\n");
    const at = formatLocalTimestamp("2026-11-30T10:28:18.000Z");
    expect(line).toBe(`${at}  access:ops\\x1b[2J@example.com  policy    hello   -          ignore ["body.t"]`);
  });
});

import { describe, expect, it } from "vitest";
import type { GateResult } from "../../src/client.ts";
import { formatLeft, parseWait, progressOf, windowArg } from "../../src/gating.ts";

describe("gate --wait", () => {
  it("reads seconds, minutes and hours, and 0 (or nothing) as one look", () => {
    expect(parseWait("90s")).toBe(90_000);
    expect(parseWait("30m")).toBe(1_800_000);
    expect(parseWait("2h")).toBe(7_200_000);
    expect(parseWait("0")).toBe(0);
    expect(parseWait(undefined)).toBe(0);
  });

  it("refuses anything else, and more than a day, in one line naming the flag", () => {
    for (const text of ["soon", "30", "1d", "-5m", "1.5h", "25h"]) {
      expect(() => parseWait(text), text).toThrow(
        `--wait takes a time such as 90s, 30m or 2h (at most 24h), or 0; got "${text}"`,
      );
    }
  });

  it("shows the time left as a person reads it", () => {
    expect(formatLeft(4_200)).toBe("5s");
    expect(formatLeft(0)).toBe("0s");
    expect(formatLeft(-300)).toBe("0s");
    expect(formatLeft(1_745_000)).toBe("29m 05s");
    expect(formatLeft(7_200_000)).toBe("2h 00m");
  });
});

describe("gate progress", () => {
  const result = (mirrored: number, compared: number, different: number) =>
    ({ verdict: "inconclusive", requests: { mirrored, compared, different, down: 0 } }) as unknown as GateResult;

  it("counts toward the floor while below it, and stops reading as a fraction past it", () => {
    expect(progressOf(result(40, 40, 0), 100)).toBe("inconclusive, 40/100 with an outcome, 0% different");
    expect(progressOf(result(252, 250, 1), 100)).toBe("inconclusive, 252 with an outcome, 0.4% different");
  });
});

describe("--window", () => {
  it("reads a bare number as minutes, as --every does, and passes anything else on as typed", () => {
    expect(windowArg("10")).toBe("10m");
    expect(windowArg("1h")).toBe("1h");
    expect(windowArg("soon")).toBe("soon");
    expect(windowArg(undefined)).toBeUndefined();
  });
});

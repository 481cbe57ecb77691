import { describe, expect, it } from "vitest";
import { formatLeft, parseWait } from "../../src/gating.ts";

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

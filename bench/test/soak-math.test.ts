import { describe, expect, it } from "vitest";
import { lostOf, memoryTable, memoryTrend, slope } from "../lib/soak-math.ts";

describe("soak arithmetic", () => {
  it("fits a least-squares slope, and none through fewer than two points", () => {
    expect(
      slope([
        { x: 0, y: 1 },
        { x: 1, y: 3 },
        { x: 2, y: 5 },
      ]),
    ).toBe(2);
    expect(slope([{ x: 1, y: 1 }])).toBeNull();
  });

  it("reads the slope in MB a minute after warm-up only, so the first minutes' growth does not count", () => {
    // 10 s samples: +50 MB a minute for 5 minutes, then flat with ±1 MB of noise.
    const samples = Array.from({ length: 61 }, (_, i) => {
      const atS = i * 10;
      const gatewayMb = atS < 300 ? 200 + (atS / 60) * 50 : 450 + (i % 2 === 0 ? 1 : -1);
      return { atS, gatewayMb, controlMb: 300 + atS / 60 };
    });
    const trend = memoryTrend(samples, 300);
    expect(trend.samples).toBe(31);
    expect(Math.abs(trend.gatewayMbPerMin ?? 1)).toBeLessThan(0.1);
    expect(trend.controlMbPerMin).toBeCloseTo(1);
    expect(trend.gatewayRangeMb).toBe(2);
  });

  it("keeps the last sample of each minute in the table", () => {
    const table = memoryTable([
      { atS: 0, gatewayMb: 100, controlMb: 90 },
      { atS: 50, gatewayMb: 110, controlMb: 91 },
      { atS: 60, gatewayMb: 120, controlMb: 92 },
    ]).split("\n");
    expect(table.slice(2)).toEqual(["| 0 | 110 | – | 91 |", "| 1 | 120 | – | 92 |"]);
  });

  it("counts as lost only copies the report is missing, never more than were expected", () => {
    expect(lostOf({ name: "a", version: "1", expected: 10, recorded: 7, unrecorded: 1 })).toBe(3);
    expect(lostOf({ name: "a", version: "1", expected: 10, recorded: 12, unrecorded: 0 })).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { IDS, rangeText, targetChecks } from "../lib/report.ts";
import { medianResults, relativeSpread, spreadOf } from "../lib/rounds.ts";
import { scenarioResult as run } from "./scenario-result.ts";

describe("ratios over interleaved rounds", () => {
  it("takes the median and the range, the mean of the middle two for an even count", () => {
    expect(spreadOf([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3 });
    expect(spreadOf([4, 1, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4 });
    expect(spreadOf([])).toBeNull();
    expect(relativeSpread({ median: 2, min: 1.5, max: 2.2 })).toBeCloseTo(0.25);
  });

  it("takes each ratio within a round, so a round where the whole machine slowed down does not count against it", () => {
    // Round 2 ran while the machine was busy: both scenarios halved; the ratio within it stays 0.9.
    const rounds = [
      [run(IDS.oneShadow, 100, 10), run(IDS.canary, 90, 10)],
      [run(IDS.oneShadow, 50, 20), run(IDS.canary, 45, 20)],
      [run(IDS.oneShadow, 100, 10), run(IDS.canary, 95, 10)],
    ];
    const canary = targetChecks(rounds).find((c) => c.label.startsWith("(e)"));
    expect(canary).toMatchObject({ value: 0.9, min: 0.9, max: 0.95, met: true });
    expect(canary?.rounds).toHaveLength(3);
    expect(rangeText(canary ?? { value: null, min: null, max: null, rounds: [] })).toBe(" (0.90–0.95 over 3 rounds)");
  });

  it("meets a target by the median even when one round misses, and misses it when most rounds do", () => {
    const canaryOver = (ratios: number[]) =>
      targetChecks(ratios.map((r) => [run(IDS.oneShadow, 100, 10), run(IDS.canary, 100 * r, 10)])).find((c) =>
        c.label.startsWith("(e)"),
      )?.met;
    expect(canaryOver([0.95, 0.85, 0.92])).toBe(true);
    expect(canaryOver([0.95, 0.85, 0.88])).toBe(false);
  });

  it("sums a scenario's rounds into one row: medians, summed errors, the range of req/s and p99", () => {
    const rows = medianResults([
      [run(IDS.noShadows, 100, 10), run(IDS.threeShadows, 60, 30)],
      [{ ...run(IDS.noShadows, 80, 14), errors: 1 }, run(IDS.threeShadows, 50, 40)],
      [run(IDS.noShadows, 120, 12), run(IDS.threeShadows, 70, 35)],
    ]);
    expect(rows.map((r) => r.id)).toEqual([IDS.noShadows, IDS.threeShadows]);
    expect(rows[0]).toMatchObject({
      rps: 100,
      p99Ms: 12,
      errors: 1,
      rounds: 3,
      spread: { rps: [80, 120], p99Ms: [10, 14] },
    });
    expect(rows[1]).toMatchObject({ rps: 60, p99Ms: 35, requests: 1800 });
  });
});

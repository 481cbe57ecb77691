import { describe, expect, it } from "vitest";
import { SCENARIOS } from "../judge/scenarios.ts";
import { simulateRun } from "../judge/simulate.ts";
import { markdownTable, summarise } from "../judge/summary.ts";

/*
 * The harness end to end at a small scale: the real batcher, window
 * arithmetic and judge see every request. The operating characteristics
 * themselves come from `npm run bench -- --judge` (1,000 runs a scenario).
 */
const scenario = (name: string) => {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
};

const runs = async (name: string, count: number, maxRequests: number) => {
  const results = [];
  for (let run = 0; run < count; run++) {
    results.push(await simulateRun(scenario(name), run + 1, { lookEvery: 100, maxRequests }));
  }
  return summarise(scenario(name), results, 0);
};

describe("the judge bench", () => {
  it("fails a shadow with 3× the allowed differences in every run, and never passes it", async () => {
    const summary = await runs("differences at 3× the limit (3 %)", 20, 2_000);
    expect(summary.everFail).toBe(1);
    expect(summary.everPass).toBe(0);
    expect(summary.median).toBeLessThanOrEqual(2_000);
    expect(summary.met).toBe(true);
  });

  it("passes identical fast twins and never fails them", async () => {
    const summary = await runs("twins, errors 0 %, σ 0.5", 20, 2_000);
    expect(summary.everFail).toBe(0);
    expect(summary.everPass).toBe(1);
    expect(markdownTable([summary])).toContain("| twins, errors 0 %, σ 0.5 | never fail | 20 | 0.0 % | 100.0 % |");
  });
});

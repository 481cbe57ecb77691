import type { RunResult } from "./simulate.ts";
import type { Scenario } from "./traffic.ts";

export interface ScenarioSummary {
  scenario: Scenario;
  runs: number;
  everFail: number;
  everPass: number;
  /** Requests to the first decision, either way; undefined when fewer than half (or 90 %) of runs decided. */
  median: number | undefined;
  p90: number | undefined;
  /** Whether the contract's target for this scenario holds. */
  met: boolean;
  cpuSeconds: number;
}

/** The q-quantile of the first decision, counting runs that never decided as never. */
function quantileOf(decided: (number | undefined)[], q: number): number | undefined {
  const sorted = decided.map((n) => n ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
  const value = sorted[Math.ceil(q * sorted.length) - 1];
  return value === undefined || !Number.isFinite(value) ? undefined : value;
}

export function summarise(scenario: Scenario, results: RunResult[], cpuSeconds: number): ScenarioSummary {
  const runs = results.length;
  const everFail = results.filter((r) => r.firstFail !== undefined).length / runs;
  const everPass = results.filter((r) => r.firstPass !== undefined).length / runs;
  const first = results.map((r) => {
    const both = [r.firstFail, r.firstPass].filter((n): n is number => n !== undefined);
    return both.length > 0 ? Math.min(...both) : undefined;
  });
  const median = quantileOf(first, 0.5);
  const p90 = quantileOf(first, 0.9);
  const firstFail = quantileOf(
    results.map((r) => r.firstFail),
    0.5,
  );
  const firstPass = quantileOf(
    results.map((r) => r.firstPass),
    0.5,
  );
  const met =
    scenario.expect === "never fail"
      ? everFail <= 0.01
      : scenario.expect === "never pass"
        ? everPass <= 0.01 && firstFail !== undefined && firstFail <= 2000
        : everFail <= 0.01 && firstPass !== undefined && firstPass <= 2000;
  return { scenario, runs, everFail, everPass, median, p90, met, cpuSeconds };
}

const requests = (n: number | undefined) => (n === undefined ? "> 20,000" : n.toLocaleString("en-US"));
const share = (p: number) => `${(p * 100).toFixed(1)} %`;

export function markdownTable(rows: ScenarioSummary[]): string {
  const lines = [
    "| scenario | target | runs | P(ever fail) | P(ever pass) | median to decide | p90 to decide | met |",
    "|---|---|---:|---:|---:|---:|---:|---|",
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.scenario.name} | ${row.scenario.expect} | ${row.runs} | ${share(row.everFail)} | ${share(row.everPass)} | ` +
        `${requests(row.median)} | ${requests(row.p90)} | ${row.met ? "yes" : "**no**"} |`,
    );
  }
  return lines.join("\n");
}

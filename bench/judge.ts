// `npm run bench -- --judge [--runs N] [--threads N] [--only <regex>]`: the verdict's operating
// characteristics. Synthetic paired traffic goes through the gateway's own batcher, the ledger's
// arithmetic and the report's judge, with a look after every 100 requests up to 20,000; it prints,
// per scenario, how often a run was ever failed and ever passed, and how soon it was decided.
import { Worker } from "node:worker_threads";
import { SCENARIOS } from "./judge/scenarios.ts";
import type { RunResult } from "./judge/simulate.ts";
import { markdownTable, type ScenarioSummary, summarise } from "./judge/summary.ts";

export interface JudgeBenchOptions {
  runs: number;
  threads: number;
  only?: RegExp;
  lookEvery?: number;
  maxRequests?: number;
}

const log = (line: string) => console.log(`[bench:judge] ${line}`);

function runShare(
  scenario: number,
  from: number,
  to: number,
  options: Required<Pick<JudgeBenchOptions, "lookEvery" | "maxRequests">>,
): Promise<{ results: RunResult[]; cpuSeconds: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./judge/worker-thread.ts", import.meta.url), {
      workerData: { scenario, from, to, ...options },
    });
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

export async function runJudgeBench(options: JudgeBenchOptions): Promise<ScenarioSummary[]> {
  const look = { lookEvery: options.lookEvery ?? 100, maxRequests: options.maxRequests ?? 20_000 };
  const summaries: ScenarioSummary[] = [];
  const started = Date.now();
  for (const [index, scenario] of SCENARIOS.entries()) {
    if (options.only && !options.only.test(scenario.name)) continue;
    const shares = Array.from({ length: options.threads }, (_, t) => {
      const from = Math.floor((t * options.runs) / options.threads);
      const to = Math.floor(((t + 1) * options.runs) / options.threads);
      return runShare(index, from, to, look);
    });
    const parts = await Promise.all(shares);
    const summary = summarise(
      scenario,
      parts.flatMap((part) => part.results),
      parts.reduce((sum, part) => sum + part.cpuSeconds, 0),
    );
    summaries.push(summary);
    log(
      `${scenario.name}: ever failed ${summary.everFail}, ever passed ${summary.everPass}, ` +
        `median ${summary.median ?? "never"}, ${summary.cpuSeconds.toFixed(0)} s of CPU`,
    );
  }
  log(`${options.runs} runs a scenario in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`\n${markdownTable(summaries)}\n`);
  const missed = summaries.filter((s) => !s.met);
  if (missed.length > 0) log(`targets missed: ${missed.map((s) => s.scenario.name).join("; ")}`);
  return summaries;
}

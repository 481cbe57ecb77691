import { parentPort, workerData } from "node:worker_threads";
import { SCENARIOS } from "./scenarios.ts";
import { type RunResult, simulateRun } from "./simulate.ts";

/** One thread's share of a scenario's runs: run i uses seed i, so the split never changes the results. */
interface Job {
  scenario: number;
  from: number;
  to: number;
  lookEvery: number;
  maxRequests: number;
}

const job = workerData as Job;
const scenario = SCENARIOS[job.scenario];
if (!scenario) throw new Error(`no scenario ${job.scenario}`);
const results: RunResult[] = [];
const cpu = process.cpuUsage();
for (let run = job.from; run < job.to; run++) {
  results.push(await simulateRun(scenario, 1_000_003 * (job.scenario + 1) + run, job));
  // The batcher's flush timers fire between runs.
  await new Promise((resolve) => setImmediate(resolve));
}
const used = process.cpuUsage(cpu);
parentPort?.postMessage({ results, cpuSeconds: (used.user + used.system) / 1e6 });

// One scenario: warm up, then drive load while reading the runtime's CPU time and
// memory, and count what main and the shadows received.
import { availableParallelism } from "node:os";
import { drainOrigins, type Origin, originStats } from "./origins.ts";
import { cpuMsByPid, cpuSnapshot, type RuntimeProcess, sampleRss } from "./proc-stats.ts";
import { otherLoadPercent, type ScenarioResult, type TargetKind } from "./report.ts";
import { errorCount, runWrk } from "./wrk.ts";

export interface Scenario {
  id: string;
  name: string;
  target: TargetKind;
  url: string;
  shadows: number;
  shadowDelayMs: number;
  bodyBytes: number;
  main: Origin;
  /** Shadow origins that answer, whose received copies are counted. */
  liveShadows: Origin[];
  /** The runtime's processes; empty when the load goes straight to the origin. */
  processes(): RuntimeProcess[];
}

export interface LoadSettings {
  durationS: number;
  warmupS: number;
  connections: number;
  timeoutS: number;
  allOrigins: Origin[];
}

// Longer than the slowest shadow (2 s) with room for a backlog of its copies.
const DRAIN_TIMEOUT_MS = 15_000;

async function received(origins: Origin[]): Promise<number[]> {
  return (await Promise.all(origins.map(originStats))).map((s) => s.received);
}

export async function measure(scenario: Scenario, load: LoadSettings): Promise<ScenarioResult> {
  const wrkOptions = {
    url: scenario.url,
    connections: load.connections,
    bodyBytes: scenario.bodyBytes,
    timeoutS: load.timeoutS,
  };
  if (load.warmupS > 0) await runWrk({ ...wrkOptions, durationS: load.warmupS });
  await drainOrigins(load.allOrigins, DRAIN_TIMEOUT_MS);

  const counted = [scenario.main, ...scenario.liveShadows];
  const receivedBefore = await received(counted);
  const processes = scenario.processes();
  const cpuBefore = cpuMsByPid(processes);
  const machineBefore = cpuSnapshot();
  const startedAt = performance.now();
  const rss = sampleRss(processes);

  const report = await runWrk({ ...wrkOptions, durationS: load.durationS });
  // Shadow copies still running belong to this run's cost.
  await drainOrigins(load.allOrigins, DRAIN_TIMEOUT_MS);

  const cpuAfter = cpuMsByPid(processes);
  const machineAfter = cpuSnapshot();
  const wallMs = performance.now() - startedAt;
  const peakRssMb = rss.stop();
  const receivedAfter = await received(counted);

  const requests = report.requests;
  const byProcess: Record<string, number> = {};
  for (const { pid, label } of processes) {
    const used = (cpuAfter.get(pid) ?? 0) - (cpuBefore.get(pid) ?? 0);
    byProcess[label] = (byProcess[label] ?? 0) + (requests > 0 ? used / requests : 0);
  }
  const cpuTotal = Object.values(byProcess).reduce((sum, ms) => sum + ms, 0);

  const delta = receivedAfter.map((after, i) => after - (receivedBefore[i] ?? 0));
  const [mainReceived = 0, ...shadowReceived] = delta;
  const copies = shadowReceived.reduce((sum, n) => sum + n, 0);
  const expectedCopies = mainReceived * scenario.liveShadows.length;

  return {
    id: scenario.id,
    name: scenario.name,
    target: scenario.target,
    shadows: scenario.shadows,
    shadowDelayMs: scenario.shadowDelayMs,
    method: scenario.bodyBytes > 0 ? "POST" : "GET",
    bodyBytes: scenario.bodyBytes,
    requests,
    rps: requests / (report.durationUs / 1e6),
    p50Ms: report.latencyUs.p50 / 1000,
    p99Ms: report.latencyUs.p99 / 1000,
    errors: errorCount(report),
    cpuMsPerReq: processes.length > 0 ? cpuTotal : null,
    cpuMsPerReqByProcess: processes.length > 0 ? byProcess : null,
    peakRssMb: processes.length > 0 ? peakRssMb : null,
    shadowCopiesDelivered: expectedCopies > 0 ? copies / expectedCopies : null,
    otherLoadPct: otherLoadPercent(machineBefore, machineAfter, wallMs, availableParallelism()),
  };
}

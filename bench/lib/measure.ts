// One scenario: warm up, then drive load while reading the runtime's CPU time and
// memory, and count what main and the shadows received.
import { availableParallelism } from "node:os";
import { profileWorker } from "./inspector.ts";
import { drainOrigins, type Origin, originStats } from "./origins.ts";
import { runPaced } from "./paced.ts";
import { cpuMsByPid, cpuSnapshot, type RuntimeProcess, sampleRss } from "./proc-stats.ts";
import type { CpuProfile } from "./profile-summary.ts";
import { otherLoadPercent, type ScenarioResult, type TargetKind } from "./report.ts";
import { errorCount, runWrk, type WrkReport } from "./wrk.ts";

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
  /** The Worker's inspector and source, when the target is a Worker under wrangler dev. */
  inspectorPort?: number;
  sourceRoot?: string;
  /** Batches the gateway's evidence ledgers have taken so far, when it compares answers. */
  ledgerWrites?: () => number;
  /**
   * Load at a steady rate (requests a second, known once earlier scenarios have run) instead of
   * wrk's back-to-back requests: what a client sees at a rate the runtime can carry.
   */
  steadyRate?: () => number;
}

export interface LoadSettings {
  durationS: number;
  /** The measured run of a steady-load scenario: it sees a fraction of wrk's requests, and p99 needs more. */
  steadyDurationS: number;
  warmupS: number;
  connections: number;
  timeoutS: number;
  allOrigins: Origin[];
  /** Take a CPU profile of the Worker during the measured run and hand it here. */
  onProfile?: (scenario: Scenario, profile: CpuProfile, requests: number) => void;
}

// Longer than the slowest shadow (2 s) with room for a backlog of its copies.
const DRAIN_TIMEOUT_MS = 15_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const changed = (before: RuntimeProcess[], after: RuntimeProcess[]) =>
  before.map((p) => p.pid).join() !== after.map((p) => p.pid).join();

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
  const rate = scenario.steadyRate?.();
  const run = (durationS: number) =>
    rate === undefined
      ? runWrk({ ...wrkOptions, durationS })
      : runPaced({ url: scenario.url, rate, durationS, timeoutS: load.timeoutS });
  // Settle before the warm-up, so leftovers of the previous scenario are gone.
  await drainOrigins(load.allOrigins, DRAIN_TIMEOUT_MS, true);
  if (load.warmupS > 0) await run(load.warmupS);
  await drainOrigins(load.allOrigins, DRAIN_TIMEOUT_MS);

  const counted = [scenario.main, ...scenario.liveShadows];
  const receivedBefore = await received(counted);
  const processes = scenario.processes();
  const writesBefore = scenario.ledgerWrites?.();
  const cpuBefore = cpuMsByPid(processes);
  const machineBefore = cpuSnapshot();
  const startedAt = performance.now();
  const rss = sampleRss(processes);

  const loadRun = () => run(rate === undefined ? load.durationS : load.steadyDurationS);
  let report: WrkReport;
  if (load.onProfile && scenario.inspectorPort !== undefined) {
    let measured: WrkReport | undefined;
    const profile = await profileWorker(scenario.inspectorPort, async () => {
      measured = await loadRun();
    });
    if (!measured) throw new Error("The profiled run produced no report");
    report = measured;
    load.onProfile(scenario, profile, report.requests);
  } else {
    report = await loadRun();
  }
  // Shadow copies still running belong to this run's cost.
  await drainOrigins(load.allOrigins, DRAIN_TIMEOUT_MS);
  // The last evidence batch is written a second after it opened.
  if (writesBefore !== undefined) await new Promise((resolve) => setTimeout(resolve, 1_500));
  const writesAfter = scenario.ledgerWrites?.();

  const cpuAfter = cpuMsByPid(processes);
  const machineAfter = cpuSnapshot();
  const wallMs = performance.now() - startedAt;
  const memory = rss.stop();
  const receivedAfter = await received(counted);

  const requests = report.requests;
  const restarted = processes.some(({ pid }) => !isAlive(pid)) || changed(processes, scenario.processes());
  if (restarted) {
    throw new Error(
      `The runtime of "${scenario.name}" restarted during the run (did a source file change?); its CPU time cannot be read`,
    );
  }
  const byProcess: Record<string, number> = {};
  let cpuTotal = 0;
  for (const { pid, label, counted } of processes) {
    const perRequest = requests > 0 ? ((cpuAfter.get(pid) ?? 0) - (cpuBefore.get(pid) ?? 0)) / requests : 0;
    byProcess[label] = (byProcess[label] ?? 0) + perRequest;
    if (counted) cpuTotal += perRequest;
  }

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
    latencyMs: {
      p90: report.latencyUs.p90 / 1000,
      p999: report.latencyUs.p999 / 1000,
      max: report.latencyUs.max / 1000,
    },
    errors: errorCount(report),
    cpuMsPerReq: processes.length > 0 ? cpuTotal : null,
    cpuMsPerReqByProcess: processes.length > 0 ? byProcess : null,
    peakRssMb: processes.length > 0 ? memory.peakMb : null,
    peakRssMbByProcess: processes.length > 0 ? memory.byLabelMb : null,
    shadowCopiesDelivered: expectedCopies > 0 ? copies / expectedCopies : null,
    // A gateway that compares writes a batch a second; none counted means the ledgers were not counting.
    ledgerWritesPerReq:
      writesBefore !== undefined && writesAfter !== undefined && writesAfter > writesBefore && requests > 0
        ? (writesAfter - writesBefore) / requests
        : null,
    profiled: load.onProfile !== undefined && scenario.inspectorPort !== undefined,
    otherLoadPct: otherLoadPercent(machineBefore, machineAfter, wallMs, availableParallelism()),
  };
}

import type { ScenarioResult } from "../lib/report.ts";

/** A scenario's result with the given throughput and p99 (p50 half of it), and nothing else of note. */
export function scenarioResult(id: string, rps: number, p99Ms: number): ScenarioResult {
  return {
    id,
    name: id,
    target: "gateway",
    shadows: 0,
    shadowDelayMs: 0,
    method: "GET",
    bodyBytes: 0,
    requests: rps * 10,
    rps,
    p50Ms: p99Ms / 2,
    p99Ms,
    latencyMs: { p90: p99Ms, p999: p99Ms, max: p99Ms },
    errors: 0,
    cpuMsPerReq: 1,
    cpuMsPerReqByProcess: { worker: 1 },
    peakRssMb: 100,
    peakRssMbByProcess: { worker: 100 },
    shadowCopiesDelivered: null,
    otherLoadPct: 0,
    profiled: false,
  };
}

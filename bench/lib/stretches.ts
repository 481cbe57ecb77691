// Long synchronous stretches of a CPU profile: runs of consecutive busy samples, during which
// the isolate's one thread could not start on a request that had just arrived. A stretch is
// counted in samples (each one sampling interval of CPU), not in wall time, so a process the
// machine descheduled does not look busy. Each stretch is put under what it spent the most
// samples in: the ledger's batch write, garbage collection, a report, or requests.
import type { CpuProfile } from "./profile-summary.ts";

export type StretchKind = "ledger write" | "garbage collection" | "report" | "requests";

export interface StretchSummary {
  /** Stretches at least this long (ms of samples), by kind: how many, and the samples they held. */
  atLeastMs: number;
  count: number;
  byKind: Record<StretchKind, number>;
  longestMs: number;
}

const LEDGER = new Set(["record", "transactionSync"]);
const REPORT = new Set(["report", "reportWithSeries", "shadowReport", "readReport"]);

/** Consecutive non-idle samples, each as the list of its sampled node ids. */
function busyRuns(profile: CpuProfile, idle: Set<number>): number[][] {
  const runs: number[][] = [];
  let current: number[] | undefined;
  for (const id of profile.samples) {
    if (idle.has(id)) {
      if (current) runs.push(current);
      current = undefined;
    } else if (current) current.push(id);
    else current = [id];
  }
  if (current) runs.push(current);
  return runs;
}

export function longStretches(profile: CpuProfile, intervalUs: number, atLeastMs: number): StretchSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  const kindOf = (id: number): StretchKind => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)?.callFrame.functionName ?? "";
      if (name === "(garbage collector)") return "garbage collection";
      if (LEDGER.has(name)) return "ledger write";
      if (REPORT.has(name)) return "report";
    }
    return "requests";
  };
  const summary: StretchSummary = {
    atLeastMs,
    count: 0,
    byKind: { "ledger write": 0, "garbage collection": 0, report: 0, requests: 0 },
    longestMs: 0,
  };
  const minSamples = Math.ceil((atLeastMs * 1000) / intervalUs);
  for (const run of busyRuns(profile, idle)) {
    summary.longestMs = Math.max(summary.longestMs, (run.length * intervalUs) / 1000);
    if (run.length < minSamples) continue;
    summary.count++;
    for (const id of run) summary.byKind[kindOf(id)]++;
  }
  return summary;
}

export function formatStretches(summary: StretchSummary, busySamples: number, intervalUs: number): string {
  const held = Object.values(summary.byKind).reduce((a, b) => a + b, 0);
  const share = (n: number) => `${((n / Math.max(1, busySamples)) * 100).toFixed(1)} %`;
  const kinds = Object.entries(summary.byKind)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind} ${share(n)}`)
    .join(", ");
  return [
    `Busy stretches of ${summary.atLeastMs} ms or more (the thread could not start on a new request): ${summary.count}, ` +
      `${((held * intervalUs) / 1000).toFixed(0)} ms, ${share(held)} of busy samples; longest ${summary.longestMs.toFixed(1)} ms`,
    `  of busy samples, within them: ${kinds || "none"}`,
  ].join("\n");
}

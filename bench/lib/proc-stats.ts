// CPU time and resident memory of a runtime's processes, read from /proc (Linux only).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** One process of a runtime under test, with a label for the per-process breakdown. */
export interface RuntimeProcess {
  pid: number;
  label: string;
  /** Counted in the runtime's CPU per request; false for helpers shown only in the breakdown. */
  counted: boolean;
}

const clockTicksPerSecond = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

const ticksToMs = (ticks: number) => (ticks * 1000) / clockTicksPerSecond;

interface ProcStat {
  comm: string;
  ppid: number;
  cpuTicks: number;
  /** CPU of children that have exited and been waited for (wrk, once a run ends). */
  waitedChildrenTicks: number;
}

/** Fields of /proc/<pid>/stat; `comm` may hold spaces and parentheses, so split after the last ")". */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  const rest = text.slice(close + 2).split(" ");
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
  return {
    comm: text.slice(open + 1, close),
    ppid: Number(rest[1]),
    cpuTicks: Number(rest[11]) + Number(rest[12]),
    waitedChildrenTicks: Number(rest[13]) + Number(rest[14]),
  };
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

export function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

/** `root` and every process below it, with their command names. */
export function processTree(root: number): { pid: number; comm: string }[] {
  const children = new Map<number, { pid: number; comm: string }[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readStat(pid);
    if (!stat) continue;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push({ pid, comm: stat.comm });
    children.set(stat.ppid, siblings);
  }
  const rootStat = readStat(root);
  const tree = rootStat ? [{ pid: root, comm: rootStat.comm }] : [];
  for (let at = 0; at < tree.length; at++) {
    const current = tree[at];
    if (current) tree.push(...(children.get(current.pid) ?? []));
  }
  return tree;
}

/** CPU milliseconds (user + system) each process has used so far. */
export function cpuMsByPid(processes: RuntimeProcess[]): Map<number, number> {
  return new Map(processes.map(({ pid }) => [pid, ticksToMs(readStat(pid)?.cpuTicks ?? 0)]));
}

export function rssKb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Samples resident memory until stopped. Returns the peak of the summed memory of
 * the counted processes, and each label's own peak, in MB.
 */
export function sampleRss(
  processes: RuntimeProcess[],
  intervalMs = 100,
): { stop(): { peakMb: number; byLabelMb: Record<string, number> } } {
  let peakKb = 0;
  const byLabelKb: Record<string, number> = {};
  const sample = () => {
    let countedKb = 0;
    for (const { pid, label, counted } of processes) {
      const kb = rssKb(pid);
      byLabelKb[label] = Math.max(byLabelKb[label] ?? 0, kb);
      if (counted) countedKb += kb;
    }
    peakKb = Math.max(peakKb, countedKb);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const byLabelMb = Object.fromEntries(Object.entries(byLabelKb).map(([label, kb]) => [label, kb / 1024]));
      return { peakMb: peakKb / 1024, byLabelMb };
    },
  };
}

/** Busy CPU time of the whole machine (all cores) from the first line of /proc/stat. */
export function parseMachineBusyTicks(procStat: string): number {
  const fields = (procStat.split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return user + nice + system + irq + softirq + steal;
}

/**
 * CPU used so far by the machine, and by this process with everything it started
 * (origins, runtimes, and wrk once it has exited). The difference over a run is the
 * load from other processes on the machine, which makes a run's numbers unreliable.
 */
export function cpuSnapshot(): { machineMs: number; oursMs: number } {
  const self = readStat(process.pid);
  const tree = processTree(process.pid);
  const treeTicks = tree.reduce((sum, { pid }) => sum + (readStat(pid)?.cpuTicks ?? 0), 0);
  return {
    machineMs: ticksToMs(parseMachineBusyTicks(readFileSync("/proc/stat", "utf8"))),
    oursMs: ticksToMs(treeTicks + (self?.waitedChildrenTicks ?? 0)),
  };
}

import type { GateResult } from "./client.ts";
import { UsageError } from "./errors.ts";
import { formatRate, outcomeCount } from "./evidence.ts";

/** `gate`'s exit codes: a pipeline step reads the verdict from them alone. */
export const GATE_EXIT = { pass: 0, fail: 1, inconclusive: 2, unreachable: 3 } as const;

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** `--wait`: `90s`, `30m`, `2h`, or `0` for one look; at most a day. */
export function parseWait(text: string | undefined): number {
  if (text === undefined || text === "0") return 0;
  const match = /^(\d{1,5})(s|m|h)$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : Number.NaN;
  if (!(ms >= 0 && ms <= 24 * UNIT_MS.h)) {
    throw new UsageError(`--wait takes a time such as 90s, 30m or 2h (at most 24h), or 0; got "${text}"`);
  }
  return ms;
}

/** `29m 05s`, `45s`: the time left, as a person reads it. */
export function formatLeft(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

/**
 * `--window 10` means ten minutes, as `--every 10` does; anything else goes to the gateway as typed,
 * which names the field when it refuses it.
 */
export function windowArg(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  return trimmed !== undefined && /^\d+$/.test(trimmed) ? `${trimmed}m` : text;
}

/** The gate waits while the verdict may still change: a main is never judged, so waiting on it is pointless. */
export const isSettled = (result: GateResult) => result.verdict !== "inconclusive" || result.main === result.version;

/**
 * `inconclusive, 40/100 with an outcome, 0% different`: where the evidence stands now, counted as
 * the gate counts it before deciding (copies with an outcome, a down shadow's unsent ones included).
 */
export function progressOf(result: GateResult, minRequests: number): string {
  const { compared, different, mirrored, down } = result.requests;
  const rate = compared > 0 ? `, ${formatRate(different / compared)} different` : "";
  return `${result.verdict}, ${outcomeCount(mirrored + down, minRequests)}${rate}`;
}

/** The line that ends a gate: what was decided, over which window. */
export function conclusionOf(result: GateResult, window: string, waitedMs: number): string {
  const subject = `${result.name} ${result.version}`;
  if (result.verdict === "pass") return `${subject} passes the gate (last ${window})`;
  if (result.verdict === "fail") return `${subject} fails the gate (last ${window})`;
  const waited = waitedMs > 0 ? ` after waiting ${formatLeft(waitedMs)}` : "";
  return `${subject} is still inconclusive${waited} (last ${window})`;
}

import { parseWindow } from "../../worker/src/registry/validation.ts";
import type { Rollout } from "./client.ts";
import { UsageError } from "./errors.ts";
import { escapeControls } from "./escape.ts";

/** `5,25,50` (a `%` after each is fine) becomes `[5, 25, 50]`; the API checks the range and the order. */
export function parseSteps(text: string | undefined): number[] {
  if (text === undefined)
    throw new UsageError("rollout needs --steps, the canary share of each step, e.g. --steps 5,25,50");
  const steps = text.split(",").map((part) => part.trim().replace(/%$/, ""));
  const numbers = steps.map(Number);
  if (steps.some((part) => part === "") || numbers.some((n) => !Number.isFinite(n))) {
    throw new UsageError(
      `--steps takes canary shares separated by commas, e.g. --steps 5,25,50; got ${JSON.stringify(text)}`,
    );
  }
  return numbers;
}

/** `10m`, `1h` or a bare number of minutes becomes minutes. */
export function parseEvery(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 60_000 : parseWindow(trimmed);
  if (ms === undefined) {
    throw new UsageError(`--every takes how long each step lasts, such as 10m or 1h; got ${JSON.stringify(text)}`);
  }
  return ms / 60_000;
}

const BAR_WIDTH = 20;

/** A step past its time moves at the cron's next look when its verdict so far has decided. */
function timeUp(verdict: string | null | undefined): string {
  if (verdict === "pass") return "step time is up and it passes: the next look moves it on";
  if (verdict === "fail") return "step time is up and it fails: the next look aborts it";
  return "step time is up, waiting for a pass";
}

/** A rollout's progress on one line: where it is, how long the step has left, and the last verdict. */
export function progressLine(rollout: Rollout, now: Date): string {
  const last = rollout.results.at(-1);
  const verdict = last ? `, last verdict ${last.verdict} at ${last.percent} %` : "";
  if (rollout.state !== "running") {
    return `${rollout.name} ${rollout.version}: rollout ${rollout.state} after ${rollout.results.length} of ${rollout.steps.length} steps${verdict}`;
  }
  const top = rollout.steps.at(-1) ?? 0;
  const filled = Math.round((rollout.percent / (top || 1)) * BAR_WIDTH);
  const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
  const leftMs = Date.parse(rollout.stepEndsAt) - now.getTime();
  const left = leftMs > 0 ? `${Math.ceil(leftMs / 60_000)} min left in the step` : timeUp(rollout.current?.verdict);
  return `${rollout.name} ${rollout.version}: ${bar} step ${rollout.step + 1} of ${rollout.steps.length}, canary ${rollout.percent} %, ${left}${verdict}`;
}

/** The running step's verdict so far, as the cron would judge it now, and why (origin text escaped). */
function soFar(current: Rollout["current"]): string {
  if (!current) return "";
  const why = current.reasons.map(escapeControls).join("; ");
  return `, ${current.verdict ?? "no verdict"} so far${why ? `: ${why}` : ""}`;
}

/** Every step with its verdict (the running one's so far), then why it ended or what comes next. */
export function rolloutDetails(rollout: Rollout): string[] {
  const lines = rollout.steps.map((percent, i) => {
    const result = rollout.results[i];
    if (result) return `  step ${i + 1}: ${percent} % ${result.verdict}`;
    if (i === rollout.step && rollout.state === "running") {
      return `  step ${i + 1}: ${percent} % running${soFar(rollout.current)}`;
    }
    return `  step ${i + 1}: ${percent} % -`;
  });
  if (rollout.state === "running") lines.push(`Next: ${rollout.nextAction}`);
  else lines.push(...rollout.reasons.map((reason) => `Reason: ${escapeControls(reason)}`));
  return lines;
}

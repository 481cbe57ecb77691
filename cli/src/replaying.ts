import { parseWindow } from "../../worker/src/registry/validation.ts";
import type { Replay } from "./client.ts";
import { UsageError } from "./errors.ts";
import { escapeControls } from "./escape.ts";

/** `--last 1h` (or `90m`, `2d`; a bare number is minutes): how far back the replayed window starts. */
export function parseLast(text: string | undefined): number {
  if (text === undefined) {
    throw new UsageError("replay needs --last, how far back the captured window starts, e.g. --last 1h");
  }
  const trimmed = text.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 60_000 : parseWindow(trimmed);
  if (ms === undefined) throw new UsageError(`--last takes a time such as 30m, 1h or 2d; got ${JSON.stringify(text)}`);
  return ms;
}

/** `--rate 40`: requests a second; the gateway checks the range. */
export function parseRate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const rate = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(rate)) {
    throw new UsageError(`--rate takes requests a second, e.g. --rate 20; got ${JSON.stringify(text)}`);
  }
  return rate;
}

const BAR_WIDTH = 20;

/** `[########------------] 48/120 sent, 47 compared, 0 different`: where a replay stands. */
export function replayProgress(replay: Replay): string {
  const done = replay.total === 0 ? 1 : replay.sent / replay.total;
  const filled = Math.round(done * BAR_WIDTH);
  const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
  const { compared, different, error } = replay.requests;
  const failed = error > 0 ? `, ${error} failed` : "";
  return `${bar} ${replay.sent}/${replay.total} sent, ${compared} compared, ${different} different${failed}`;
}

/** The line that ends a replay: how it ended, and its verdict. */
export function replayConclusion(replay: Replay): string {
  const subject = `Replay ${replay.id} of ${replay.name} to ${replay.version}`;
  const ended = replay.state === "running" ? "is running" : replay.state === "done" ? "done" : "stopped";
  const why = replay.stoppedBecause ? ` (${replay.stoppedBecause})` : "";
  return `${subject} ${ended}${why}: ${replay.sent}/${replay.total} sent, verdict ${replay.verdict.outcome}`;
}

/** One replay in `replay status NAME`: its id, version, state, progress and verdict. */
export function replayRow(replay: Replay): string {
  const window = `${replay.from.slice(0, 16).replace("T", " ")} to ${replay.to.slice(0, 16).replace("T", " ")}`;
  return `${replay.id}  ${replay.version}  ${replay.state}  ${replay.sent}/${replay.total}  ${replay.verdict.outcome}  (${window}, ${replay.rate}/s)`;
}

/** The verdict's reasons, indented; they name origins' fields, whose keys may hold control characters. */
export const reasonLines = (replay: Replay): string[] => replay.reasons.map((reason) => `  ${escapeControls(reason)}`);

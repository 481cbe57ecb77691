import type { MirrorLogMode } from "../config.ts";
import type { CopyAnswer, MainSide } from "../evidence/answers.ts";
import type { Evidence } from "../evidence/collection.ts";
import {
  compareExchange,
  type Exchange,
  recordSkipped,
  recordUnpaired,
  type UnsentCopy,
} from "../evidence/exchange.ts";
import { logMirror, outcomeOf, type ShadowOutcome } from "./mirror.ts";

// Where the proxy's part of a mirrored request ends: the answers go to the isolate's evidence
// collection (evidence/exchange.ts compares and counts them), and the request gets its mirror line.

/** A mirrored request as the proxy hands it on: its evidence, and whether its mirror line is written when every copy went well. */
export type MirroredExchange = Exchange & { mirrorLog: MirrorLogMode };

/** Why a selected copy was never sent, when that is the shadow's own doing: it counts against it, as `down`. */
const DOWN_REASONS: ReadonlySet<ShadowOutcome["skipped"]> = new Set(["unreachable", "paused"]);

const unsent = (skipped: readonly ShadowOutcome[]): UnsentCopy[] =>
  skipped.map(({ version, skipped: reason }) => ({ version, down: DOWN_REASONS.has(reason) }));

/** Shadows that got no copy of a request still count: as `down` when the shadow was marked unreachable or paused, else under `skipped`. */
export function countNotSent(
  evidence: Evidence,
  exchange: Pick<Exchange, "name" | "main" | "waitUntil">,
  skipped: readonly ShadowOutcome[],
): void {
  recordSkipped(evidence, exchange, unsent(skipped));
}

/** The request's mirror line, once every copy has answered (alone with `COMPARE_RESPONSES = "off"`). */
export async function logOutcomes(
  exchange: { name: string; requestId: string; mirrorLog: MirrorLogMode },
  answers: Promise<CopyAnswer>[],
  skipped: ShadowOutcome[],
): Promise<void> {
  const all = await Promise.all(answers);
  logMirror(exchange.name, exchange.requestId, [...all.map(outcomeOf), ...skipped], exchange.mirrorLog);
}

/** Main's answer and the copies' to the evidence, compared there; then the mirror line. Never rejects. */
export async function compareAndLog(
  evidence: Evidence,
  exchange: MirroredExchange,
  mainSide: Promise<MainSide>,
  copies: Promise<CopyAnswer>[],
  twin: Promise<CopyAnswer> | undefined,
  skipped: ShadowOutcome[],
): Promise<void> {
  await compareExchange(evidence, exchange, mainSide, copies, twin, unsent(skipped));
  await logOutcomes(exchange, copies, skipped);
}

/** Answers to a request main never saw, counted unpaired (see recordUnpaired); then the mirror line. Never rejects. */
export async function recordUnpairedAndLog(
  evidence: Evidence,
  exchange: MirroredExchange,
  copies: Promise<CopyAnswer>[],
  skipped: ShadowOutcome[],
): Promise<void> {
  await recordUnpaired(evidence, exchange, copies, unsent(skipped));
  await logOutcomes(exchange, copies, skipped);
}

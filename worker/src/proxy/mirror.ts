import type { MirrorLogMode } from "../config.ts";
import { reasonOf } from "../errors.ts";
import type { CopyAnswer } from "../evidence/answers.ts";
import type { ComparisonMemory } from "../evidence/memory.ts";
import { captureBody } from "./capture.ts";
import { headersForVersion } from "./credentials.ts";
import { targetUrl } from "./forward.ts";
import type { ShadowPauses } from "./pause.ts";
import type { Shadow, Target } from "./route-table.ts";
import { pauseKey, type SkipReason } from "./selection.ts";
import { withoutHeaders } from "./strip.ts";

/** Why a request reached main alone, whatever the traffic controls say. */
export type NotMirroredReason = "body too large" | "already a shadow copy" | "WebSocket upgrade" | "CONNECT";

/** How one shadow fared with one request: its status, its error, or why it got no copy. */
export interface ShadowOutcome {
  version: string;
  status?: number;
  error?: string;
  /** Time to response headers (or to the failure), for copies that were sent. */
  ms?: number;
  skipped?: SkipReason | NotMirroredReason;
}

/**
 * The line of one mirrored request, naming every shadow's outcome, so
 * `wrangler tail` and dev output show how each version fared and why one got
 * no copy. One line, not one per shadow: a log call is the costliest thing
 * mirroring does (see bench/RESULTS.md), and Workers Logs bill per line.
 */
export interface MirrorLog {
  event: "mirror";
  name: string;
  requestId: string;
  shadows: ShadowOutcome[];
}

/** Skips that are the traffic controls doing their job, not news about a shadow. */
const ROUTINE_SKIPS: ReadonlySet<ShadowOutcome["skipped"]> = new Set(["sampled out", "method"]);

/** A copy that failed, answered 5xx, or was held back for a reason other than sampling. */
const needsAttention = (outcome: ShadowOutcome): boolean =>
  outcome.error !== undefined ||
  (outcome.status ?? 0) >= 500 ||
  (outcome.skipped !== undefined && !ROUTINE_SKIPS.has(outcome.skipped));

/**
 * Writes the request's mirror line: always with `MIRROR_LOG = "all"`, and by
 * default only when some shadow's outcome needs attention. Every outcome is
 * counted in the evidence ledger either way; a line per clean request is what
 * a busy service cannot afford (see bench/RESULTS.md and docs/scale.md).
 */
export function logMirror(name: string, requestId: string, shadows: ShadowOutcome[], mode: MirrorLogMode): void {
  if (shadows.length === 0) return;
  if (mode === "failures" && !shadows.some(needsAttention)) return;
  const line: MirrorLog = { event: "mirror", name, requestId, shadows };
  console.log(JSON.stringify(line));
}

/** How many requests of a name sent one shadow no copy, for one reason, within about a second. */
interface SkippedCount {
  version: string;
  skipped: SkipReason;
  count: number;
}

/** The summary line of requests that sent no copy at all: `{"event":"mirror_skipped",…}`. */
export interface MirrorSkippedLog {
  event: "mirror_skipped";
  name: string;
  shadows: SkippedCount[];
}

type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * Requests that the traffic controls kept from every shadow get no line of
 * their own: at 10 % sampling that would be nine lines for every copy sent,
 * and a log line costs more than the request (see bench/RESULTS.md). They
 * are tallied per name instead, and the tally is logged once a second, in
 * the waitUntil of the request that started it.
 */
export class SkippedCopies {
  readonly #pending = new Map<string, Map<string, SkippedCount>>();

  constructor(private readonly intervalMs = 1_000) {}

  add(name: string, skipped: readonly { version: string; reason: SkipReason }[], waitUntil: WaitUntil): void {
    let tally = this.#pending.get(name);
    if (!tally) {
      tally = new Map();
      this.#pending.set(name, tally);
      const opened = tally;
      waitUntil(
        new Promise((resolve) => setTimeout(resolve, this.intervalMs)).then(() => {
          if (this.#pending.get(name) === opened) this.#pending.delete(name);
          const line: MirrorSkippedLog = { event: "mirror_skipped", name, shadows: [...opened.values()] };
          console.log(JSON.stringify(line));
        }),
      );
    }
    for (const { version, reason } of skipped) {
      const key = `${version}\t${reason}`;
      const count = tally.get(key);
      if (count) count.count++;
      else tally.set(key, { version, skipped: reason, count: 1 });
    }
  }
}

/** What every copy shares: method, headers (already marked), body and query. */
export interface ShadowCopy {
  name: string;
  requestId: string;
  method: string;
  headers: Headers;
  body: Blob | null;
  rest: string;
  search: string;
  timeoutMs: number;
  /**
   * The time limit of the copies sent together with this one, one timer for all of them (a timer
   * per copy lived on for every copy a slow shadow held). Absent: the copy starts its own.
   */
  deadline?: AbortSignal;
  /** Cloudflare Access's assertion, kept from `headers` for the versions that opted in to it. */
  accessAssertion?: string;
}

/**
 * Sends one copy. With `capture`, the answer's body is read up to the
 * comparison cap; without, it is cancelled at once so it frees its
 * connection. Never rejects.
 */
export async function sendCopy(
  target: Target,
  copy: ShadowCopy,
  capture?: { cap: number; memory: ComparisonMemory },
): Promise<CopyAnswer> {
  const started = Date.now();
  const signal = copy.deadline ?? (copy.timeoutMs > 0 ? AbortSignal.timeout(copy.timeoutMs) : undefined);
  try {
    const response = await fetch(targetUrl(target.origin, copy.rest, copy.search), {
      method: copy.method,
      headers: headersForVersion(copy.headers, target, copy.accessAssertion),
      body: copy.body,
      redirect: "manual",
      signal,
    });
    const ms = Date.now() - started;
    const { status, headers } = response;
    if (!capture) {
      await response.body?.cancel();
      return { ok: true, version: target.version, status, headers, ms };
    }
    const body = await captureBody(response, capture.cap, capture.memory);
    if (body.incomplete === "unreadable") {
      const timedOut = signal?.aborted === true;
      const error = timedOut
        ? `timed out after ${copy.timeoutMs} ms reading the body`
        : "the body broke off after the headers";
      return { ok: false, version: target.version, error, ms: Date.now() - started, timedOut, afterHeaders: true };
    }
    return { ok: true, version: target.version, status, headers, body, ms };
  } catch (error) {
    const timedOut = signal?.aborted === true;
    const message = timedOut ? `timed out after ${copy.timeoutMs} ms` : reasonOf(error);
    return { ok: false, version: target.version, error: message, ms: Date.now() - started, timedOut };
  }
}

/** Sends a shadow its copy and tells the isolate's pauses whether it connected (any HTTP answer) or not. */
export async function sendShadow(
  shadow: Shadow,
  copy: ShadowCopy,
  pauses: ShadowPauses,
  capture?: { cap: number; memory: ComparisonMemory },
): Promise<CopyAnswer> {
  const own =
    shadow.stripHeaders.length > 0 ? { ...copy, headers: withoutHeaders(copy.headers, shadow.stripHeaders) } : copy;
  const answer = await sendCopy(shadow, own, capture);
  // A shadow that answered and then broke its body is reachable: an error, not a reason to pause it.
  pauses.report(pauseKey(copy.name, shadow), answer.ok || answer.afterHeaders === true);
  return answer;
}

export const outcomeOf = (answer: CopyAnswer): ShadowOutcome =>
  answer.ok
    ? { version: answer.version, status: answer.status, ms: answer.ms }
    : { version: answer.version, error: answer.error, ms: answer.ms };

/**
 * Mirroring without comparison: one copy to every selected shadow at once.
 * Each copy settles on its own (answer, error or timeout); the returned
 * promise never rejects, so it can go straight to `ctx.waitUntil`.
 */
export async function mirrorToShadows(
  shadows: readonly Shadow[],
  copy: ShadowCopy,
  pauses: ShadowPauses,
  skipped: ShadowOutcome[],
  mode: MirrorLogMode,
): Promise<void> {
  const answers = await Promise.all(shadows.map((shadow) => sendShadow(shadow, copy, pauses)));
  logMirror(copy.name, copy.requestId, [...answers.map(outcomeOf), ...skipped], mode);
}

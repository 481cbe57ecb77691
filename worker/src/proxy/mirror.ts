import { reasonOf } from "../errors.ts";
import { targetUrl } from "./forward.ts";
import type { Target } from "./route-table.ts";

/** How one shadow copy fared. */
export interface ShadowOutcome {
  version: string;
  status?: number;
  error?: string;
  ms: number;
}

/**
 * One line per mirrored request, naming every shadow's outcome, so `wrangler tail`
 * and dev output show how each version fared. One line, not one per shadow: a
 * log call is the costliest thing mirroring does (see bench/RESULTS.md), and
 * Workers Logs bill per line.
 */
export interface MirrorLog {
  event: "mirror";
  name: string;
  requestId: string;
  shadows: ShadowOutcome[];
}

const logMirror = (line: MirrorLog): void => console.log(JSON.stringify(line));

/** What every shadow copy shares: method, headers (already marked), body and query. */
export interface ShadowCopy {
  name: string;
  requestId: string;
  method: string;
  headers: Headers;
  body: Blob | null;
  rest: string;
  search: string;
  timeoutMs: number;
}

async function sendShadow(target: Target, copy: ShadowCopy): Promise<ShadowOutcome> {
  const started = Date.now();
  const signal = copy.timeoutMs > 0 ? AbortSignal.timeout(copy.timeoutMs) : undefined;
  try {
    const response = await fetch(targetUrl(target.origin, copy.rest, copy.search), {
      method: copy.method,
      headers: copy.headers,
      body: copy.body,
      redirect: "manual",
      signal,
    });
    // Nobody reads a shadow's answer; cancelling frees its connection for the next copy.
    await response.body?.cancel();
    return { version: target.version, status: response.status, ms: Date.now() - started };
  } catch (error) {
    const message = signal?.aborted === true ? `timed out after ${copy.timeoutMs} ms` : reasonOf(error);
    return { version: target.version, error: message, ms: Date.now() - started };
  }
}

/**
 * Sends one copy to every shadow at once. Each copy settles on its own (answer,
 * error or timeout); the returned promise never rejects, so it can go straight
 * to `ctx.waitUntil`.
 */
export async function mirrorToShadows(shadows: readonly Target[], copy: ShadowCopy): Promise<void> {
  const outcomes = await Promise.all(shadows.map((shadow) => sendShadow(shadow, copy)));
  logMirror({ event: "mirror", name: copy.name, requestId: copy.requestId, shadows: outcomes });
}

/** Logs that this request reached main only, and why. */
export function logNotMirrored(shadows: readonly Target[], requestId: string, reason: string): void {
  const [first] = shadows;
  if (!first) return;
  const outcomes = shadows.map(({ version }) => ({ version, error: `not mirrored: ${reason}`, ms: 0 }));
  logMirror({ event: "mirror", name: first.name, requestId, shadows: outcomes });
}

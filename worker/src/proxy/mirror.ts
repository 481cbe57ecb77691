import { targetUrl } from "./forward.ts";
import type { Target } from "./route-table.ts";

/** One line per shadow copy, so `wrangler tail` and dev output show how every shadow fared. */
export interface ShadowOutcome {
  event: "shadow";
  name: string;
  version: string;
  requestId: string;
  status?: number;
  error?: string;
  ms: number;
}

export const logShadowOutcome = (outcome: ShadowOutcome): void => console.log(JSON.stringify(outcome));

/** What every shadow copy shares: method, headers (already marked), body and query. */
export interface ShadowCopy {
  requestId: string;
  method: string;
  headers: Headers;
  body: Blob | null;
  rest: string;
  search: string;
  timeoutMs: number;
}

async function sendShadow(target: Target, url: string, copy: ShadowCopy): Promise<void> {
  const started = Date.now();
  const outcome = (extra: { status: number } | { error: string }): ShadowOutcome => ({
    event: "shadow",
    name: target.name,
    version: target.version,
    requestId: copy.requestId,
    ...extra,
    ms: Date.now() - started,
  });
  const signal = copy.timeoutMs > 0 ? AbortSignal.timeout(copy.timeoutMs) : undefined;
  try {
    const response = await fetch(url, {
      method: copy.method,
      headers: copy.headers,
      body: copy.body,
      redirect: "manual",
      signal,
    });
    // Nobody reads a shadow's answer; cancelling frees its connection for the next copy.
    await response.body?.cancel();
    logShadowOutcome(outcome({ status: response.status }));
  } catch (error) {
    const timedOut = signal?.aborted === true;
    const message = timedOut
      ? `timed out after ${copy.timeoutMs} ms`
      : error instanceof Error
        ? error.message
        : String(error);
    logShadowOutcome(outcome({ error: message }));
  }
}

/**
 * Sends one copy to every shadow at once. Each copy settles on its own (answer,
 * error or timeout) and is logged; the returned promise never rejects, so it
 * can go straight to `ctx.waitUntil`.
 */
export function mirrorToShadows(shadows: readonly Target[], copy: ShadowCopy): Promise<void> {
  const sends = shadows.map((shadow) => sendShadow(shadow, targetUrl(shadow.origin, copy.rest, copy.search), copy));
  return Promise.all(sends).then(() => undefined);
}

/** Logs, once per shadow, that this request reached main only. */
export function logNotMirrored(shadows: readonly Target[], requestId: string, reason: string): void {
  for (const { name, version } of shadows) {
    logShadowOutcome({ event: "shadow", name, version, requestId, error: `not mirrored: ${reason}`, ms: 0 });
  }
}

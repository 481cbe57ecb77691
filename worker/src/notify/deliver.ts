import { reasonOf } from "../errors.ts";
import type { NotifyEventName, NotifyTarget } from "./target.ts";

/** One change, as the receiver gets it; Slack's incoming webhooks show `text`. */
export interface NotifyEvent {
  event: NotifyEventName;
  service: string;
  version: string;
  /** The version's verdict over the last hour, when one was read (assign and verdict events). */
  verdict: "pass" | "fail" | "inconclusive" | null;
  reasons: string[];
  at: string;
  text: string;
}

interface DeliveryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** The wait before the second try; it doubles before each later one. */
  backoffMs: number;
  /** Each try is abandoned after this long. */
  timeoutMs: number;
}

/**
 * Bounded so that a dead receiver is given up well within the 30 s that Workers
 * grant `waitUntil` after the response: at most 4 × 5 s of tries and 3.5 s of waits.
 */
const DELIVERY: DeliveryOptions = { attempts: 4, backoffMs: 500, timeoutMs: 5_000 };

export type DeliveryResult =
  | { delivered: true; attempts: number }
  | { delivered: false; attempts: number; reason: string };

/**
 * POSTs one event, retrying a connection failure, a timeout, a 429 or a 5xx
 * with backoff. A 4xx other than 429 is final: the receiver refuses it, and
 * asking again would only be refused again. Never throws; a failure is logged.
 */
export async function deliver(
  target: NotifyTarget,
  event: NotifyEvent,
  options: DeliveryOptions = DELIVERY,
): Promise<DeliveryResult> {
  let reason = "not tried";
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, options.backoffMs * 2 ** (attempt - 2)));
    try {
      const response = await fetch(target.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "daeploy-edge" },
        body: JSON.stringify(event),
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await response.body?.cancel();
      if (response.ok) return { delivered: true, attempts: attempt };
      reason = `answered ${response.status}`;
      if (response.status < 500 && response.status !== 429) return failed(target, event, attempt, reason);
    } catch (error) {
      reason = reasonOf(error);
    }
  }
  return failed(target, event, options.attempts, reason);
}

function failed(target: NotifyTarget, event: NotifyEvent, attempts: number, reason: string): DeliveryResult {
  // The URL's path may be a webhook's secret: only its host is logged.
  const host = new URL(target.url).host;
  console.error(
    JSON.stringify({
      event: "notify_failed",
      kind: event.event,
      service: event.service,
      version: event.version,
      host,
      attempts,
      reason,
    }),
  );
  return { delivered: false, attempts, reason };
}

import * as v from "valibot";
import { AppError } from "../errors.ts";

import { NOTIFY_EVENTS, type NotifyEventName, type NotifyTarget } from "../registry/records.ts";

export { NOTIFY_EVENTS, type NotifyEventName, type NotifyTarget } from "../registry/records.ts";

/** What stands for the hidden rest of a URL that the API shows only by scheme and host. */
const HIDDEN_URL_REST = "/…";

/**
 * A notification URL as the API, the audit trail and logs may show it: its scheme and host only,
 * `https://hooks.slack.com/…`. The rest is a secret (Slack's path is its token), so the URL is
 * write-only; the marker tells a reader (and a PUT that sends it back) that this is not the URL.
 */
function shownNotifyUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}${HIDDEN_URL_REST}`;
  } catch {
    return HIDDEN_URL_REST;
  }
}

/**
 * A policy change's detail with its notification URL shown by scheme and host only. Rows are written
 * that way; this also covers rows written before notification URLs became write-only.
 */
export function withNotifyShown(detail: Record<string, unknown>): Record<string, unknown> {
  const notify = detail.notify;
  if (typeof notify !== "object" || notify === null || !("url" in notify) || typeof notify.url !== "string") {
    return detail;
  }
  return { ...detail, notify: { ...notify, url: shownNotifyUrl(notify.url) } };
}

/** A target as it may be shown: the same events, the URL by scheme and host. */
export const shownNotifyTarget = (target: NotifyTarget): NotifyTarget => ({
  url: shownNotifyUrl(target.url),
  events: target.events,
});

const URL_MAX_LENGTH = 2048;

/**
 * The target a policy change asks for. Without a URL it keeps the stored one and changes only the
 * events: a client that has only ever seen the shown form can still narrow them.
 */
export function notifyTargetOf(
  change: { url?: string; events: NotifyEventName[] },
  stored: NotifyTarget | undefined,
): NotifyTarget {
  const url = change.url ?? stored?.url;
  if (url === undefined) {
    throw new AppError(
      422,
      "invalid_field",
      "notify.url is required: no URL is stored for this name yet",
      "notify.url",
    );
  }
  return { url, events: change.events };
}

/** 127.0.0.0/8, ::1 and localhost: where plain http: is acceptable, for local development. */
function isLoopbackHost(hostname: string): boolean {
  if (hostname === "localhost" || hostname === "[::1]") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** `https:`, or `http:` to a loopback address: events carry verdicts and reasons, which stay off plain networks. */
function notifyUrlProblem(raw: string): string | undefined {
  if (raw.includes(HIDDEN_URL_REST)) {
    return "is the shown form of the stored URL (scheme and host only): give the whole URL, or leave url out to keep the stored one";
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute https:// URL";
  }
  if (url.username !== "" || url.password !== "") return "must not contain credentials";
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return undefined;
  if (url.protocol === "http:") return "must use https: (http: only to a loopback address such as 127.0.0.1)";
  return `must use https:, not ${url.protocol}`;
}

export const notifyUrl = v.pipe(
  v.string("must be a string"),
  v.maxLength(URL_MAX_LENGTH, `must be at most ${URL_MAX_LENGTH} characters`),
  v.check(
    (url) => notifyUrlProblem(url) === undefined,
    (issue) => notifyUrlProblem(String(issue.input)) ?? "must be an https: URL",
  ),
  v.metadata({ format: "uri", examples: ["https://hooks.slack.com/services/T000/B000/XXXX"] }),
);

const EVENTS_SHAPE = `must be a list of events from ${NOTIFY_EVENTS.join(", ")}`;

export const notifyEvents = v.pipe(
  v.array(v.picklist(NOTIFY_EVENTS, EVENTS_SHAPE), EVENTS_SHAPE),
  v.minLength(1, "must name at least one event"),
  v.check((events) => new Set(events).size === events.length, "must not name an event twice"),
);

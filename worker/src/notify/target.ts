import * as v from "valibot";

/** What a policy's `notify` may ask to be told about; `rollout` is sent once rollouts exist. */
export const NOTIFY_EVENTS = ["verdict", "assign", "kill", "rollout"] as const;
export type NotifyEventName = (typeof NOTIFY_EVENTS)[number];

/** Where a name's changes are POSTed, and which ones. */
export interface NotifyTarget {
  url: string;
  events: NotifyEventName[];
}

const URL_MAX_LENGTH = 2048;

/** 127.0.0.0/8, ::1 and localhost: where plain http: is acceptable, for local development. */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === "localhost" || hostname === "[::1]") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** `https:`, or `http:` to a loopback address: events carry verdicts and reasons, which stay off plain networks. */
export function notifyUrlProblem(raw: string): string | undefined {
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

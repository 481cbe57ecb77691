/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) for shadow copies:
 * a copy stays inside the client's trace (same trace id), as a new span of
 * its own (a new parent id), marked `daeploy=shadow` in `tracestate`, so a
 * tracing backend shows copies beside main's request and can tell them apart.
 * Main's copy is never touched, and a request without a trace gets none.
 */

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZEROS = /^0+$/;
/** A key is `simple` or `tenant@system`; a value is printable ASCII but `,` and `=`, not ending in a space. */
const MEMBER =
  /^([a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})=([\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e])$/;
const MAX_MEMBERS = 32;

const TRACESTATE_KEY = "daeploy";
const OUR_MEMBER = `${TRACESTATE_KEY}=shadow`;

/** The trace id and flags of a valid `traceparent`, or undefined: a version 00 header is exactly 55 characters. */
export function parseTraceparent(value: string | null): { traceId: string; flags: string } | undefined {
  if (value === null) return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, version = "", traceId = "", parentId = "", flags = "", rest] = match;
  if (version === "ff" || ALL_ZEROS.test(traceId) || ALL_ZEROS.test(parentId)) return undefined;
  if (version === "00" && rest !== undefined) return undefined;
  return { traceId, flags };
}

/** Eight random bytes, never all zero (an invalid parent id). */
function newSpanId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  if (bytes.every((b) => b === 0)) bytes[7] = 1;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Ours first, then the others in their order, without our old entry or malformed ones, at most 32 in all. */
export function markedTracestate(value: string | null): string {
  const others = (value ?? "")
    .split(",")
    .map((member) => member.trim())
    .filter((member) => MEMBER.test(member) && !member.startsWith(`${TRACESTATE_KEY}=`));
  return [OUR_MEMBER, ...others.slice(0, MAX_MEMBERS - 1)].join(",");
}

/** Turns a copy's headers into a new span of the client's trace; headers without a valid trace are left alone. */
export function continueTraceAsShadow(headers: Headers): Headers {
  const parent = parseTraceparent(headers.get("traceparent"));
  if (!parent) return headers;
  // A copy is sent by this version of the format, whatever version the client spoke.
  headers.set("traceparent", `00-${parent.traceId}-${newSpanId()}-${parent.flags}`);
  headers.set("tracestate", markedTracestate(headers.get("tracestate")));
  return headers;
}

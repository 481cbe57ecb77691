import type { CapturedAnswer } from "./compare.ts";

// What the proxy hands the evidence of one mirrored request: the bodies as it read them for
// comparison, main's side of the exchange and each copy's answer.

/** A body as read for comparison: all of it, its digest, or why only status and headers can be compared. */
export interface CapturedBody {
  bytes?: Uint8Array;
  /** A stream read only up to the cap (or its time): its complete events are compared, not its length. */
  cut?: true;
  /** The hex SHA-256 of a body past the cap, read whole but not kept: equality is all it can tell. */
  digest?: string;
  /** Why the bytes are missing: an event stream, over the cap, unreadable, or no memory left. */
  incomplete?: "stream" | "over cap" | "unreadable" | "memory";
  /** What this body holds of the isolate's comparison memory until it is released. */
  reserved: number;
}

/** Main's side of one exchange: its answer (body still arriving), or a failure to answer at all. */
export type MainSide =
  | { ok: true; status: number; headers: Headers; body: Promise<CapturedBody>; ms: number; at: number }
  | { ok: false; ms: number; at: number };

/**
 * A copy's answer: any HTTP answer, with its body when it was read for comparison; or how it
 * failed, and when (`ms`). A body that broke or stalled after its headers is a failure too
 * (`afterHeaders`), timed at the break or the timeout, never at the headers.
 */
export type CopyAnswer =
  | { ok: true; version: string; status: number; headers: Headers; body?: CapturedBody; ms: number }
  | { ok: false; version: string; error: string; ms: number; timedOut: boolean; afterHeaders?: boolean };

/**
 * The headers comparison looks at: content-type, location, the cookies set (one
 * `Set-Cookie` a line, as Headers cannot join them unambiguously) and the policy's, lower-case.
 */
function comparedHeaders(headers: Headers, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of ["content-type", "location"]) {
    const value = headers.get(name);
    if (value !== null) picked[name] = value;
  }
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) picked["set-cookie"] = cookies.join("\n");
  for (const name of names) {
    const value = headers.get(name);
    if (value !== null) picked[name.toLowerCase()] = value;
  }
  return picked;
}

export function capturedAnswer(status: number, headers: Headers, body: CapturedBody, names: readonly string[]) {
  return {
    status,
    headers: comparedHeaders(headers, names),
    body: body.bytes,
    bodyComplete: body.bytes !== undefined,
    ...(body.digest !== undefined && { digest: body.digest }),
    ...(body.cut && { cut: true }),
  } satisfies CapturedAnswer;
}

import type { Env } from "../env.ts";
import { ACCESS_ASSERTION, ACCESS_COOKIE, bearerToken, whichToken } from "../gateway-credentials.ts";

/**
 * Removes the gateway's own credentials from headers about to be forwarded: Cloudflare Access's
 * assertion, its cookie (the application's other cookies stay), and an Authorization that carries
 * the admin or read token (any other stays). An origin that has them could replay them against
 * /api/v1. Returns the assertion, for the versions that opted in to receive it.
 */
export async function keepCredentialsAtGateway(headers: Headers, env: Env): Promise<string | undefined> {
  const assertion = headers.get(ACCESS_ASSERTION) ?? undefined;
  headers.delete(ACCESS_ASSERTION);
  const cookie = headers.get("cookie");
  if (cookie !== null) {
    const kept = withoutCookie(cookie, ACCESS_COOKIE);
    if (kept === "") headers.delete("cookie");
    else if (kept !== cookie) headers.set("cookie", kept);
  }
  const bearer = bearerToken(headers.get("authorization") ?? "");
  if (bearer !== undefined && (await whichToken(env, bearer)) !== undefined) headers.delete("authorization");
  return assertion;
}

/** A Cookie header without every pair named `name`; the other pairs as they were sent. */
export function withoutCookie(cookie: string, name: string): string {
  if (!cookie.includes(name)) return cookie;
  const pairs = cookie.split(";");
  const kept = pairs.filter((pair) => pair.split("=", 1)[0]?.trim() !== name);
  if (kept.length === pairs.length) return cookie;
  return kept
    .map((pair) => pair.trim())
    .filter((pair) => pair !== "")
    .join("; ");
}

/** Headers for one version: `headers` itself, or a copy with the assertion back when that version opted in. */
export function headersForVersion(
  headers: Headers,
  target: { forwardAccess?: boolean },
  assertion: string | undefined,
): Headers {
  if (!target.forwardAccess || assertion === undefined) return headers;
  const own = new Headers(headers);
  own.set(ACCESS_ASSERTION, assertion);
  return own;
}

// What the gateway accepts as credentials: the admin and read tokens, and Cloudflare Access's
// assertion and cookie. The admin API checks them; the proxy keeps them from origins.
import type { Env } from "./env.ts";

/** The header Cloudflare Access adds to every request it lets through. */
export const ACCESS_ASSERTION = "Cf-Access-Jwt-Assertion";
/** The cookie Cloudflare Access signs a browser in with. */
export const ACCESS_COOKIE = "CF_Authorization";

const encoder = new TextEncoder();
const sha256 = (text: string) => crypto.subtle.digest("SHA-256", encoder.encode(text));

/** Hashing first gives equal lengths, so the comparison time says nothing about the token. */
async function tokensMatch(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(given), sha256(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** Which of the gateway's tokens `given` is, if any; both comparisons always run, so the time says nothing. */
export async function whichToken(env: Env, given: string): Promise<"admin" | "read" | undefined> {
  const [admin, read] = await Promise.all([
    env.ADMIN_TOKEN ? tokensMatch(given, env.ADMIN_TOKEN) : Promise.resolve(false),
    env.READ_TOKEN ? tokensMatch(given, env.READ_TOKEN) : Promise.resolve(false),
  ]);
  if (admin) return "admin";
  return read ? "read" : undefined;
}

/** The token of an `Authorization: Bearer <token>` header, or `undefined` for any other scheme. */
export const bearerToken = (authorization: string): string | undefined =>
  /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];

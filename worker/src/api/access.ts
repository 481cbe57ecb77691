import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import type { Env } from "../env.ts";
import { reasonOf } from "../errors.ts";

/** How long an isolate trusts a fetched key set; Access rotates keys every six weeks, overlapping. */
export const ACCESS_KEYS_TTL_MS = 5 * 60_000;

type KeySet = ReturnType<typeof createLocalJWKSet>;

interface AccessSettings {
  issuer: string;
  audience: string;
  certsUrl: string;
}

/** Access is on when both the team domain and the application's AUD tag are set. */
export function accessSettings(env: Env): AccessSettings | undefined {
  const team = env.ACCESS_TEAM_DOMAIN?.trim()
    .replace(/^https:\/\//, "")
    .replace(/\/+$/, "");
  const audience = env.ACCESS_AUD?.trim();
  if (!team || !audience) return undefined;
  const issuer = `https://${team}`;
  const certsUrl = env.ACCESS_CERTS_URL?.trim() || `${issuer}/cdn-cgi/access/certs`;
  return { issuer, audience, certsUrl };
}

/**
 * Cloudflare Access on one host with the proxied services: their pages share the dashboard's origin, so
 * a service's script can call the admin API with the signed-in operator's Access cookie.
 */
export function accessWarning(env: Env): string | undefined {
  if (!accessSettings(env) || env.ADMIN_HOSTNAME?.trim()) return undefined;
  return (
    "Cloudflare Access is on (ACCESS_TEAM_DOMAIN, ACCESS_AUD) but ADMIN_HOSTNAME is empty: the services are " +
    "served on the admin host, where their pages can act as a signed-in operator; set ADMIN_HOSTNAME"
  );
}

// Per isolate and per URL: one fetch of the team's keys serves every request until it expires.
const cache = new Map<string, { keys: Promise<KeySet>; expiresAt: number }>();

async function fetchKeys(url: string): Promise<KeySet> {
  const response = await fetch(url, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`the Access key set at ${url} answered ${response.status}`);
  return createLocalJWKSet((await response.json()) as JSONWebKeySet);
}

function keysAt(url: string, now: number): Promise<KeySet> {
  const cached = cache.get(url);
  if (cached && cached.expiresAt > now) return cached.keys;
  const keys = fetchKeys(url);
  const entry = { keys, expiresAt: now + ACCESS_KEYS_TTL_MS };
  cache.set(url, entry);
  // A failed fetch is not kept: the next request tries again.
  keys.catch(() => {
    if (cache.get(url) === entry) cache.delete(url);
  });
  return keys;
}

type AccessCheck = { ok: true; email: string } | { ok: false; reason: string };

/**
 * Checks a `Cf-Access-Jwt-Assertion`: RS256 only (so `alg: none` and HMAC tricks fail),
 * signed by one of the team's keys, for this application's AUD, issued by the team, unexpired.
 */
export async function verifyAccessAssertion(settings: AccessSettings, assertion: string): Promise<AccessCheck> {
  try {
    const keys = await keysAt(settings.certsUrl, Date.now());
    const { payload } = await jwtVerify(assertion, keys, {
      algorithms: ["RS256"],
      audience: settings.audience,
      issuer: settings.issuer,
      requiredClaims: ["exp"],
    });
    const email = typeof payload.email === "string" && payload.email !== "" ? payload.email : payload.sub;
    if (!email) return { ok: false, reason: "the assertion names no user (no email or sub)" };
    return { ok: true, email };
  } catch (error) {
    return { ok: false, reason: reasonOf(error) };
  }
}

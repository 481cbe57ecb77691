import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { ACCESS_KEYS_TTL_MS } from "../../src/api/access.ts";
import { api } from "./admin-client.ts";
import { withVars } from "./proxy-helpers.ts";

const jwks = inject("jwks");
const TEAM = "team.cloudflareaccess.test";
const AUD = "aud-tag-of-the-admin-app";
const ISSUER = `https://${TEAM}`;

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
interface SigningKey {
  kid: string;
  pair: KeyPair;
  jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const pair = await generateKeyPair("RS256", { extractable: true });
  return { kid, pair, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: "RS256", use: "sig" } };
}

/** Serves exactly these public keys at the test's certs URL. */
async function serveKeys(...keys: SigningKey[]): Promise<void> {
  const response = await fetch(jwks, { method: "PUT", body: JSON.stringify({ keys: keys.map((k) => k.jwk) }) });
  expect(response.status).toBe(204);
}

const fetchesOfKeys = async () => ((await (await fetch(`${jwks}/fetches`)).json()) as { fetches: number }).fetches;

interface Claims {
  aud?: string | string[];
  iss?: string;
  /** Seconds from now until expiry; negative is in the past. */
  expiresIn?: number;
  email?: string;
}

async function assertion(key: SigningKey, claims: Claims = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ email: claims.email ?? "ops@example.com", type: "app" })
    .setProtectedHeader({ alg: "RS256", kid: key.kid })
    .setAudience(claims.aud ?? [AUD])
    .setIssuer(claims.iss ?? ISSUER)
    .setSubject("user-1")
    .setIssuedAt(now - 60)
    .setExpirationTime(now + (claims.expiresIn ?? 600))
    .sign(key.pair.privateKey);
}

/** An admin call through Cloudflare Access: no Bearer token, only the assertion Access adds. */
async function viaAccess(token: string | undefined, method = "GET", path = "/api/v1/services") {
  const headers = new Headers();
  if (token !== undefined) headers.set("cf-access-jwt-assertion", token);
  const vars = { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_CERTS_URL: jwks };
  const { response } = await withVars(vars, new Request(`http://gateway.test${path}`, { method, headers }));
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } } };
}

let current: SigningKey;
let outsider: SigningKey;

beforeAll(async () => {
  [current, outsider] = await Promise.all([signingKey("current"), signingKey("outsider")]);
  await serveKeys(current);
});

afterEach(() => {
  vi.useRealTimers();
});

describe("Cloudflare Access", () => {
  it("admits a valid assertion as admin, with no Bearer token", async () => {
    expect((await viaAccess(await assertion(current))).status).toBe(200);
    // Admin, not read-only: a write gets past auth to the body checks (no JSON sent: 415).
    const write = await viaAccess(await assertion(current), "PATCH", "/api/v1/services/nobody/1.0.0");
    expect(write.status).toBe(415);
  });

  it("records a change made through Access as access:<email> in the audit trail", async () => {
    const name = `viaaccess${crypto.randomUUID().slice(0, 8)}`;
    const headers = {
      "cf-access-jwt-assertion": await assertion(current, { email: "lead@example.com" }),
      "content-type": "application/json",
    };
    const body = JSON.stringify({ name, version: "1.0.0", origin: "http://127.0.0.1:1", check: false });
    const vars = { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_CERTS_URL: jwks };
    const request = new Request("http://gateway.test/api/v1/services", { method: "POST", headers, body });
    const { response } = await withVars(vars, request);
    expect(response.status).toBe(201);
    await response.body?.cancel();
    const { body: trail } = await api<{ audit: { actor: string; action: string }[] }>("GET", `/audit?name=${name}`);
    expect(trail.audit).toMatchObject([{ actor: "access:lead@example.com", action: "deploy" }]);
  });

  it.each<[string, () => Promise<string>]>([
    ["the wrong aud", () => assertion(current, { aud: ["another-app"] })],
    ["the wrong iss", () => assertion(current, { iss: "https://other.cloudflareaccess.test" })],
    ["an expired assertion", () => assertion(current, { expiresIn: -120 })],
    ["a key outside the set", () => assertion(outsider)],
    [
      "alg: none",
      async () => {
        const signed = await assertion(current);
        const [, payload] = signed.split(".");
        const header = btoa(JSON.stringify({ alg: "none", kid: current.kid })).replace(/=+$/, "");
        return `${header}.${payload}.`;
      },
    ],
    ["garbage", async () => "not.a.jwt"],
  ])("refuses %s with 401", async (_what, make) => {
    const { status, body } = await viaAccess(await make());
    expect(status).toBe(401);
    expect(body.error?.code).toBe("unauthorized");
    expect(body.error?.message).toContain("Cloudflare Access");
  });

  it("is off unless both the team domain and the AUD are set", async () => {
    const token = await assertion(current);
    const headers = { "cf-access-jwt-assertion": token };
    for (const vars of [{ ACCESS_TEAM_DOMAIN: TEAM, ACCESS_CERTS_URL: jwks }, { ACCESS_AUD: AUD }]) {
      const request = new Request("http://gateway.test/api/v1/services", { headers });
      const { response } = await withVars(vars, request);
      expect(response.status).toBe(401);
      await response.body?.cancel();
    }
  });

  it("caches the team's keys, and picks up a rotated set once the cache expires", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 24 * 60 * 60_000 });
    // A day later than any earlier test: whatever was cached has expired, so this reads the set once.
    expect((await viaAccess(await assertion(current))).status).toBe(200);
    const fetched = await fetchesOfKeys();
    expect((await viaAccess(await assertion(current))).status).toBe(200);
    expect(await fetchesOfKeys()).toBe(fetched);

    const rotated = await signingKey("rotated");
    await serveKeys(rotated);
    // Still the cached set: the new key is not known yet, the old one still is.
    expect((await viaAccess(await assertion(rotated))).status).toBe(401);
    expect((await viaAccess(await assertion(current))).status).toBe(200);

    vi.setSystemTime(Date.now() + ACCESS_KEYS_TTL_MS + 1_000);
    expect((await viaAccess(await assertion(rotated))).status).toBe(200);
    expect((await viaAccess(await assertion(current))).status).toBe(401);
    expect(await fetchesOfKeys()).toBe(fetched + 1);
    await serveKeys(current);
  });
});

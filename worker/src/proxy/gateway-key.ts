/**
 * The secret that lets this gateway recognise its own traffic: shadow copies
 * that come back in, and deploy probes that reach it. It is derived from the
 * ADMIN_TOKEN secret, so every isolate of one deployment agrees on it while
 * clients and other deployments cannot produce it. Without a token (the admin
 * API is off then) each isolate makes up a random one.
 */
export interface GatewayKey {
  /** The name this gateway gives itself in `Via`: unguessable, and different per deployment. */
  id: string;
  /** The key stored samples' redacted values are HMACs under (see evidence/redact.ts). */
  redactionKey: Uint8Array;
  sign(purpose: Purpose, data: string): Promise<string>;
  verify(purpose: Purpose, data: string, signature: string): Promise<boolean>;
}

/** Each use signs a different message, so a signature made for one can never pass for another. */
type Purpose = "shadow" | "probe" | "probe-echo";

const encoder = new TextEncoder();
const HMAC = { name: "HMAC", hash: "SHA-256" } as const;

const toHex = (bytes: ArrayBuffer): string =>
  Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");

function fromHex(text: string): Uint8Array | undefined {
  if (text.length !== 64 || !/^[0-9a-f]+$/.test(text)) return undefined;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

const message = (purpose: Purpose, data: string) => encoder.encode(`daeploy-edge ${purpose}\n${data}`);

async function deriveKey(token: string | undefined): Promise<GatewayKey> {
  const secret = token ? encoder.encode(token) : crypto.getRandomValues(new Uint8Array(32));
  // The token itself never signs anything a client sees; a key derived from it does.
  const root = await crypto.subtle.importKey("raw", secret, HMAC, false, ["sign"]);
  const derived = await crypto.subtle.sign("HMAC", root, encoder.encode("daeploy-edge gateway key v1"));
  const key = await crypto.subtle.importKey("raw", derived, HMAC, false, ["sign", "verify"]);
  const id = toHex(await crypto.subtle.sign("HMAC", key, encoder.encode("daeploy-edge via id"))).slice(0, 12);
  const redactionKey = new Uint8Array(
    await crypto.subtle.sign("HMAC", root, encoder.encode("daeploy-edge redaction v1")),
  );
  return {
    id: `daeploy-${id}`,
    redactionKey,
    sign: async (purpose, data) => toHex(await crypto.subtle.sign("HMAC", key, message(purpose, data))),
    verify: async (purpose, data, signature) => {
      const bytes = fromHex(signature.toLowerCase());
      // subtle.verify compares in constant time.
      return bytes !== undefined && crypto.subtle.verify("HMAC", key, bytes, message(purpose, data));
    },
  };
}

// Per isolate: the key is derived once, and again only if the token changes.
let cached: { token: string | undefined; key: Promise<GatewayKey> } | undefined;

export function gatewayKey(env: { ADMIN_TOKEN?: string }): Promise<GatewayKey> {
  const token = env.ADMIN_TOKEN || undefined;
  if (cached !== undefined && cached.token === token) return cached.key;
  const key = deriveKey(token);
  cached = { token, key };
  key.catch(() => {
    if (cached?.key === key) cached = undefined;
  });
  return key;
}

import type { GatewayKey } from "./gateway-key.ts";

/**
 * `Via` (RFC 9110 section 7.6.3) is how a request carries the path it has
 * travelled: every proxy appends `<protocol> <received-by>`. Counting this
 * gateway's own entries tells how often a request has come back to it.
 */

/** Splits a Via value into its entries; commas inside a (comment) do not split. */
function viaEntries(via: string): string[] {
  const entries: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < via.length; i++) {
    const char = via[i];
    if (char === "(") depth++;
    else if (char === ")" && depth > 0) depth--;
    else if (char === "," && depth === 0) {
      entries.push(via.slice(start, i));
      start = i + 1;
    }
  }
  entries.push(via.slice(start));
  return entries;
}

/** How many entries of `via` name `gatewayId` as their receiver. */
export function hopsThrough(via: string | null, gatewayId: string): number {
  if (via === null || !via.includes(gatewayId)) return 0;
  let hops = 0;
  for (const entry of viaEntries(via)) {
    const [, receivedBy] = entry.trim().split(/\s+/, 2);
    if (receivedBy === gatewayId) hops++;
  }
  return hops;
}

/** `via` with this gateway's entry appended, as it travels on. */
export const appendVia = (via: string | null, gatewayId: string): string =>
  via === null || via.trim() === "" ? `1.1 ${gatewayId}` : `${via}, 1.1 ${gatewayId}`;

/** What a shadow proof vouches for: one copy of one request, as the gateway sent it. */
export interface CopyFacts {
  requestId: string;
  method: string;
  /** The service segment (`<name>` or `<name>_<version>`) the request came in on, as it carried it. */
  segment: string;
  /** The path and query after the service's segment, as the copy carried them. */
  target: string;
}

const factsOf = ({ requestId, method, segment, target }: CopyFacts, expiresAt: number) =>
  `${requestId}\n${method}\n${segment}\n${target}\n${expiresAt}`;

/** A copy with no time limit (SHADOW_TIMEOUT_MS 0) still ends with its waitUntil, at most 30 s. */
const UNBOUNDED_COPY_MS = 30_000;

/** Slack for clocks of two isolates (Workers' clocks are close, not equal). */
const CLOCK_SLACK_MS = 1_000;

/**
 * The proof a copy carries: `<expiry ms>.<signature>` over the request id, method, service segment, path
 * and query and that expiry, the end of the copy's lifetime. Replayed on another request, another
 * service, or later, it proves nothing.
 */
export async function signShadowProof(key: GatewayKey, facts: CopyFacts, lifetimeMs: number): Promise<string> {
  const expiresAt = Date.now() + (lifetimeMs > 0 ? lifetimeMs : UNBOUNDED_COPY_MS) + CLOCK_SLACK_MS;
  return `${expiresAt}.${await key.sign("shadow", factsOf(facts, expiresAt))}`;
}

/** Whether `proof` is this gateway's, for exactly this request, and still within its copy's lifetime. */
export async function verifyShadowProof(key: GatewayKey, facts: CopyFacts, proof: string): Promise<boolean> {
  const match = /^(\d{1,15})\.([0-9a-f]{64})$/.exec(proof);
  if (!match?.[1] || !match[2]) return false;
  const expiresAt = Number(match[1]);
  if (Date.now() > expiresAt) return false;
  return key.verify("shadow", factsOf(facts, expiresAt), match[2]);
}

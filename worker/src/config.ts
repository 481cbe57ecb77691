import type { Env } from "./env.ts";

export interface GatewayConfig {
  mirrorMaxBodyBytes: number;
  originTimeoutMs: number;
  shadowTimeoutMs: number;
  routesCacheTtlMs: number;
  healthTimeoutMs: number;
  /** A request that has passed through this gateway this many times is refused with 508. */
  maxHops: number;
  /** Compare main's and each shadow's answers and keep the evidence; off: mirror only. */
  compareResponses: boolean;
  /** Largest body (main's or a shadow's) read for comparison; larger ones are compared on status and headers. */
  compareMaxBodyBytes: number;
  /** Bodies held for comparison at once, per isolate; past it, exchanges are mirrored but not compared. */
  compareMemoryBytes: number;
  /** Ledger Durable Objects per name: each isolate writes to one, reads merge all (see evidence/shards.ts). */
  ledgerShards: number;
  /** Which mirrored requests get a log line: every one, or those where a copy failed or was held back. */
  mirrorLog: MirrorLogMode;
}

export type MirrorLogMode = "all" | "failures";

const DEFAULT_CONFIG: GatewayConfig = {
  mirrorMaxBodyBytes: 1024 * 1024,
  originTimeoutMs: 30_000,
  shadowTimeoutMs: 10_000,
  routesCacheTtlMs: 1_000,
  healthTimeoutMs: 5_000,
  maxHops: 5,
  compareResponses: true,
  compareMaxBodyBytes: 256 * 1024,
  compareMemoryBytes: 32 * 1024 * 1024,
  ledgerShards: 1,
  mirrorLog: "failures",
};

/** Cloudflare's soft limit of about 1,000 requests a second per object, times 32, covers any service we size for. */
export const MAX_LEDGER_SHARDS = 32;

// A mistyped variable falls back to its default rather than turning every request into a 500.
function nonNegativeInt(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  return Number.isSafeInteger(value) && value >= 0 ? value : fallback;
}

// Zero hops would refuse every request, so it falls back too.
function positiveInt(raw: string | undefined, fallback: number): number {
  const value = nonNegativeInt(raw, fallback);
  return value > 0 ? value : fallback;
}

// Unlike the other tunables, a bad shard count is worth a warning: it decides where evidence goes.
function ledgerShards(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_CONFIG.ledgerShards;
  const value = Number(raw);
  if (Number.isSafeInteger(value) && value >= 1 && value <= MAX_LEDGER_SHARDS) return value;
  console.warn(
    JSON.stringify({
      event: "config_invalid",
      variable: "LEDGER_SHARDS",
      value: raw,
      reason: `must be a whole number from 1 to ${MAX_LEDGER_SHARDS}; using ${DEFAULT_CONFIG.ledgerShards}`,
    }),
  );
  return DEFAULT_CONFIG.ledgerShards;
}

function mirrorLog(raw: string | undefined): MirrorLogMode {
  const value = raw?.trim().toLowerCase();
  if (value === "all" || value === "failures") return value;
  if (value) {
    console.warn(
      JSON.stringify({
        event: "config_invalid",
        variable: "MIRROR_LOG",
        value: raw,
        reason: `must be "all" or "failures"; using "${DEFAULT_CONFIG.mirrorLog}"`,
      }),
    );
  }
  return DEFAULT_CONFIG.mirrorLog;
}

const parsed = new WeakMap<Env, GatewayConfig>();

/** The gateway's tunables from wrangler.toml `[vars]`, parsed once per env object. */
export function readConfig(env: Env): GatewayConfig {
  let config = parsed.get(env);
  if (!config) {
    config = {
      mirrorMaxBodyBytes: nonNegativeInt(env.MIRROR_MAX_BODY_BYTES, DEFAULT_CONFIG.mirrorMaxBodyBytes),
      originTimeoutMs: nonNegativeInt(env.ORIGIN_TIMEOUT_MS, DEFAULT_CONFIG.originTimeoutMs),
      shadowTimeoutMs: nonNegativeInt(env.SHADOW_TIMEOUT_MS, DEFAULT_CONFIG.shadowTimeoutMs),
      routesCacheTtlMs: nonNegativeInt(env.ROUTES_CACHE_TTL_MS, DEFAULT_CONFIG.routesCacheTtlMs),
      healthTimeoutMs: nonNegativeInt(env.HEALTH_TIMEOUT_MS, DEFAULT_CONFIG.healthTimeoutMs),
      maxHops: positiveInt(env.MAX_HOPS, DEFAULT_CONFIG.maxHops),
      compareResponses: env.COMPARE_RESPONSES?.trim().toLowerCase() !== "off",
      compareMaxBodyBytes: nonNegativeInt(env.COMPARE_MAX_BODY_BYTES, DEFAULT_CONFIG.compareMaxBodyBytes),
      compareMemoryBytes: nonNegativeInt(env.COMPARE_MEMORY_BYTES, DEFAULT_CONFIG.compareMemoryBytes),
      ledgerShards: ledgerShards(env.LEDGER_SHARDS),
      mirrorLog: mirrorLog(env.MIRROR_LOG),
    };
    parsed.set(env, config);
  }
  return config;
}

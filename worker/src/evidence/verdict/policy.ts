import type { CaptureSettings } from "../capture-settings.ts";
import type { FieldRule } from "../field-rules.ts";
import { isWithin } from "../paths.ts";

export interface Gate {
  minRequests: number;
  maxDiffRate: number;
  maxErrorRateIncrease: number;
  /** Fail when the shadow's p99 (or median) is clearly above this many times main's (and minP99DeltaMs more). */
  maxP99Ratio: number;
  /** Pass only when it is clearly below this many times main's (or within minP99DeltaMs): looser than the fail margin. */
  passP99Ratio: number;
  minP99DeltaMs: number;
  /** The chance of ever failing a shadow within every limit, over any number of looks. */
  alpha: number;
}

export interface EvidencePolicy {
  /** Paths that never count; `body.meta` also covers `body.meta.time` and `body.meta[]…`. */
  ignore: string[];
  /** Share of mirrored GET/HEAD requests (0–100) that also send main a copy of itself to learn noise. */
  noisePercent: number;
  /** Extra response headers compared besides content-type, lower-case. */
  headers?: string[];
  /** Sample fields stored redacted besides the credential-named ones: `query.<param>`, `body.<field path>`. */
  redact?: string[];
  /** How the values at some paths compare (numbers with tolerance, unordered arrays, presence, formats). */
  rules?: FieldRule[];
  /** Traffic kept for replays (capture/); absent or null: none. */
  capture?: CaptureSettings | null;
  gate: Gate;
}

export const defaultPolicy: EvidencePolicy = {
  ignore: [],
  noisePercent: 5,
  gate: {
    minRequests: 100,
    maxDiffRate: 0.01,
    maxErrorRateIncrease: 0.01,
    maxP99Ratio: 1.5,
    passP99Ratio: 2,
    minP99DeltaMs: 25,
    alpha: 0.01,
  },
};

/** What an operator set of a policy; everything else takes the defaults, so better defaults reach old policies. */
export type PolicyOverrides = Partial<Omit<EvidencePolicy, "gate">> & { gate?: Partial<Gate> };

/** A partial policy (as stored or sent) completed with the defaults. */
export function withDefaults(policy: PolicyOverrides = {}) {
  return {
    ...defaultPolicy,
    ...policy,
    gate: { ...defaultPolicy.gate, ...policy.gate },
  } satisfies EvidencePolicy;
}

export function isIgnored(path: string, ignore: readonly string[]): boolean {
  return ignore.some((prefix) => isWithin(path, prefix));
}

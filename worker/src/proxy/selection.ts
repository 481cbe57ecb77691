import type { ShadowPauses } from "./pause.ts";
import { isSampled, requestBucket } from "./sampling.ts";

/** What the traffic controls need to know of a shadow. */
export interface ShadowControls {
  version: string;
  origin: string;
  status: "running" | "unreachable" | "unknown";
  /** 0–100, two decimals. */
  mirrorPercent: number;
  /** Upper-case methods, or `null` for every method. */
  mirrorMethods: readonly string[] | null;
  /** 0–50, two decimals: the share of requests this shadow answers (see ./canary.ts). */
  canaryPercent: number;
  /** The header whose value picks the canary's requests; `null`: the request id. */
  canaryKey: string | null;
}

export type SkipReason = "unreachable" | "paused" | "sampled out" | "method";

interface Selection<T> {
  send: T[];
  skipped: { version: string; reason: SkipReason }[];
}

/** The isolate-wide key of a shadow: a redeployed version at another origin starts with a clean record. */
export const pauseKey = (name: string, shadow: ShadowControls): string => `${name} ${shadow.version} ${shadow.origin}`;

/**
 * Picks the shadows that get a copy of this request. Cheap checks run first,
 * and the pause is consulted last, because admitting a paused shadow's trial
 * copy commits the caller to sending it.
 */
export function selectShadows<T extends ShadowControls>(
  name: string,
  shadows: readonly T[],
  request: { method: string; requestId: string },
  pauses: ShadowPauses,
): Selection<T> {
  const selection: Selection<T> = { send: [], skipped: [] };
  let bucket: number | undefined;
  for (const shadow of shadows) {
    let reason: SkipReason | undefined;
    // The traffic controls first: a copy they would not select is no evidence, even from an unreachable shadow.
    if (shadow.mirrorMethods !== null && !shadow.mirrorMethods.includes(request.method)) reason = "method";
    else if (shadow.mirrorPercent < 100) {
      bucket ??= requestBucket(request.requestId);
      if (!isSampled(bucket, shadow.mirrorPercent)) reason = "sampled out";
    }
    if (reason === undefined && shadow.status === "unreachable") reason = "unreachable";
    if (reason === undefined && !pauses.admit(pauseKey(name, shadow))) reason = "paused";
    if (reason === undefined) selection.send.push(shadow);
    else selection.skipped.push({ version: shadow.version, reason });
  }
  return selection;
}

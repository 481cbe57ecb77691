import { CANARY_MAX_PERCENT } from "../registry/validation.ts";
import { isSampled, requestBucket } from "./sampling.ts";
import type { ShadowControls } from "./selection.ts";

/** The buckets canaries may take together: the API keeps a name's shares to this sum, and so does routing. */
const CANARY_BUCKETS = CANARY_MAX_PERCENT * 100;

/**
 * Which shadow, if any, answers a request instead of main. Each canary's key
 * is the value of its `canaryKey` header (the request id when it is unset or
 * the request lacks the header), and the decision is a pure function of it:
 *
 *   bucket  = fmix32(fnv1a32(utf8("canary:" + key))) mod 10000
 *
 * so one user (one header value) lands on the same version in every isolate
 * and after every restart, and the canary share does not follow the mirror
 * sample. Canaries stack in deploy order: the first takes buckets
 * [0, p1 × 100), the next [p1 × 100, (p1 + p2) × 100), and so on, so only one
 * canary answers a request and two canaries keyed alike never share a user.
 * Ranges end at bucket 5000 whatever the stored shares add up to (say, a
 * rollout raised one past another's), so canaries never answer more than half.
 * A shadow marked unreachable by the health probe answers nobody.
 */
export function chooseCanary<T extends ShadowControls>(
  shadows: readonly T[],
  requestId: string,
  headers: Headers,
): T | undefined {
  let from = 0;
  for (const shadow of shadows) {
    if (shadow.canaryPercent <= 0) continue;
    const to = Math.min(CANARY_BUCKETS, from + Math.round(shadow.canaryPercent * 100));
    const bucket = canaryBucket(canaryKeyOf(shadow, requestId, headers));
    const inRange = bucket >= from && isSampled(bucket, to / 100);
    from = to;
    if (inRange && shadow.status !== "unreachable") return shadow;
  }
  return undefined;
}

/** The value that decides: the named header's, else the request id. */
function canaryKeyOf(shadow: Pick<ShadowControls, "canaryKey">, requestId: string, headers: Headers): string {
  const value = shadow.canaryKey === null ? null : headers.get(shadow.canaryKey);
  return value === null || value === "" ? requestId : value;
}

export const canaryBucket = (key: string): number => requestBucket(`canary:${key}`);

/**
 * Which requests a shadow at `percent` receives. The decision is a pure
 * function of the request's X-Request-Id, so every isolate agrees, a retried
 * request with the same id is sampled the same way, and a request sent to a
 * 10 % shadow is also sent to every shadow at 10 % or more:
 *
 *   bucket  = fmix32(fnv1a32(utf8(requestId))) mod 10000
 *   sampled = bucket < round(percent × 100)
 *
 * The noise sample (the extra copy to main itself) uses the same hash over
 * "noise:" + requestId, so whether a request measures noise does not depend
 * on whether the shadows sampled it.
 */

/** Buckets per 100 %: two decimals of a percent. */
export const SAMPLING_BUCKETS = 10_000;

const encoder = new TextEncoder();

/** 32-bit FNV-1a over the id's UTF-8 bytes, then MurmurHash3's finaliser so that ids differing in one character spread over every bucket. */
export function requestBucket(requestId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(requestId)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % SAMPLING_BUCKETS;
}

/** Whether a request in `bucket` goes to a shadow mirroring `percent` (0–100, two decimals) of traffic. */
export const isSampled = (bucket: number, percent: number): boolean => bucket < Math.round(percent * 100);

/** The bucket that decides the noise sample: independent of the shadows' bucket. */
export const noiseBucket = (requestId: string): number => requestBucket(`noise:${requestId}`);

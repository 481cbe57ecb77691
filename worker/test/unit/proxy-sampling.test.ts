import { describe, expect, it } from "vitest";
import { isSampled, noiseBucket, requestBucket, SAMPLING_BUCKETS } from "../../src/proxy/sampling.ts";

const ids = (count: number, make: (i: number) => string) => Array.from({ length: count }, (_, i) => make(i));
const share = (requestIds: string[], percent: number) =>
  requestIds.filter((id) => isSampled(requestBucket(id), percent)).length / requestIds.length;

describe("deterministic sampling", () => {
  it("gives the same bucket for the same id, in range", () => {
    for (const id of ["a", "req-1", crypto.randomUUID(), "ü-✓"]) {
      const bucket = requestBucket(id);
      expect(bucket).toBe(requestBucket(id));
      expect(bucket).toBeGreaterThanOrEqual(0);
      expect(bucket).toBeLessThan(SAMPLING_BUCKETS);
    }
  });

  it("matches the published formula on known ids, so operators can predict it", () => {
    // Worked by hand from the formula in docs/proxy.md: FNV-1a 32, fmix32, mod 10000.
    expect(requestBucket("")).toBe(fmixReference(0x811c9dc5) % 10_000);
    expect(requestBucket("a")).toBe(fmixReference(Math.imul(0x811c9dc5 ^ 0x61, 0x01000193) >>> 0) % 10_000);
  });

  it("spreads random and sequential ids evenly at 25 %", () => {
    expect(
      share(
        ids(4_000, () => crypto.randomUUID()),
        25,
      ),
    ).toBeCloseTo(0.25, 1);
    expect(
      share(
        ids(4_000, (i) => `req-${i}`),
        25,
      ),
    ).toBeCloseTo(0.25, 1);
  });

  it("samples nothing at 0 and everything at 100", () => {
    const all = ids(1_000, () => crypto.randomUUID());
    expect(share(all, 0)).toBe(0);
    expect(share(all, 100)).toBe(1);
  });

  it("honours two decimals", () => {
    expect(isSampled(0, 0.01)).toBe(true);
    expect(isSampled(1, 0.01)).toBe(false);
    expect(isSampled(1_049, 10.5)).toBe(true);
    expect(isSampled(1_050, 10.5)).toBe(false);
  });

  it("sends a request sampled at 10 % to every shadow at 10 % or more", () => {
    const all = ids(2_000, () => crypto.randomUUID());
    const at = (percent: number) => new Set(all.filter((id) => isSampled(requestBucket(id), percent)));
    const [ten, fifty] = [at(10), at(50)];
    expect(ten.size).toBeGreaterThan(0);
    for (const id of ten) expect(fifty.has(id)).toBe(true);
  });
});

function fmixReference(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

describe("noise sampling", () => {
  it("picks its share independently of the shadows' bucket", () => {
    const requestIds = ids(20_000, (i) => `req-${i}`);
    const sampledByShadow = requestIds.filter((id) => isSampled(requestBucket(id), 10));
    const noiseAmongThem = sampledByShadow.filter((id) => isSampled(noiseBucket(id), 5)).length;
    // Were the buckets one, the 5 % noise sample would be half of the 10 % shadow sample.
    expect(noiseAmongThem / sampledByShadow.length).toBeGreaterThan(0.03);
    expect(noiseAmongThem / sampledByShadow.length).toBeLessThan(0.07);
  });
});

import { describe, expect, it } from "vitest";
import { bucketOf, LatencyHistogram } from "../../src/evidence/histogram.ts";

/** Nearest rank, the definition the histogram approximates. */
function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] ?? 0;
}

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const shapes: Record<string, (r: () => number) => number> = {
  uniform: (r) => 1 + r() * 500,
  "log-normal": (r) => Math.exp(3 + 1.2 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())),
  "bimodal with a slow tail": (r) => (r() < 0.97 ? 5 + r() * 10 : 800 + r() * 4000),
};

describe("LatencyHistogram", () => {
  for (const [shape, draw] of Object.entries(shapes)) {
    it(`reads p50, p95 and p99 back within 5 % of the exact values (${shape})`, () => {
      for (let seed = 1; seed <= 20; seed++) {
        const r = random(seed);
        const samples = Array.from({ length: 1 + Math.floor(r() * 5000) }, () => draw(r));
        const histogram = new LatencyHistogram();
        for (const ms of samples) histogram.add(ms);
        const sorted = [...samples].sort((a, b) => a - b);
        for (const q of [0.5, 0.95, 0.99]) {
          const exact = exactQuantile(sorted, q);
          const read = histogram.quantile(q);
          expect(Math.abs(read - exact) / exact, `seed ${seed}, q ${q}: ${read} vs ${exact}`).toBeLessThanOrEqual(0.05);
        }
      }
    });
  }

  it("puts everything up to 1 ms in bucket 0, which reads back as 1 ms", () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(0.4)).toBe(0);
    expect(bucketOf(1)).toBe(0);
    expect(bucketOf(1.01)).toBe(1);
    const histogram = new LatencyHistogram();
    histogram.add(0.3);
    expect(histogram.quantile(0.5)).toBe(1);
  });

  it("answers 0 when empty", () => {
    expect(new LatencyHistogram().summary()).toEqual({ p50: 0, p95: 0, p99: 0 });
  });

  it("serialises sparsely and reads back the same quantiles", () => {
    const histogram = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) histogram.add(100 + (i % 7));
    histogram.add(3000);
    const json = histogram.toJson();
    // 100–106 ms spans four 2 % buckets; 3,000 ms is one more: 1,001 latencies, five numbers.
    expect(Object.keys(json).length).toBeLessThanOrEqual(5);
    const copy = LatencyHistogram.fromJson(JSON.parse(JSON.stringify(json)));
    expect(copy.count).toBe(1001);
    expect(copy.summary()).toEqual(histogram.summary());
  });

  it("merges into the histogram of all the samples together", () => {
    const r = random(7);
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let i = 0; i < 2000; i++) {
      const ms = 1 + r() * 300;
      (i % 3 === 0 ? a : b).add(ms);
      all.add(ms);
    }
    const merged = LatencyHistogram.fromJson(a.toJson());
    merged.merge(b);
    expect(merged.toJson()).toEqual(all.toJson());
    const viaJson = new LatencyHistogram();
    viaJson.mergeJson(a.toJson());
    viaJson.mergeJson(b.toJson());
    expect(viaJson.summary()).toEqual(all.summary());
  });

  it("ignores malformed buckets in stored JSON", () => {
    const histogram = LatencyHistogram.fromJson({ "10": 2, "-1": 5, x: 3, "12": -4 });
    expect(histogram.count).toBe(2);
  });
});

import { describe, expect, it } from "vitest";
import { delays, describeLatency, parseLatency, quantile, seedOf } from "../lib/latency.ts";

const sorted = (draw: () => number, n: number) => Array.from({ length: n }, draw).sort((a, b) => a - b);

describe("an origin's seeded answer time", () => {
  it("draws the same delays from the same seed, and other delays from another origin's", () => {
    const latency = parseLatency("lognormal:20:0.5");
    const a = Array.from({ length: 50 }, delays(latency, seedOf("main")));
    expect(Array.from({ length: 50 }, delays(latency, seedOf("main")))).toEqual(a);
    expect(Array.from({ length: 50 }, delays(latency, seedOf("shadow-a")))).not.toEqual(a);
  });

  it("has the median and tail it names", () => {
    const latency = parseLatency("lognormal:20:0.5");
    const draws = sorted(delays(latency, seedOf("main")), 20_000);
    expect(draws[10_000]).toBeGreaterThan(19);
    expect(draws[10_000]).toBeLessThan(21);
    // p99 of a log-normal with σ 0.5 is the median × e^(2.326 × 0.5), about 64 ms.
    expect(quantile(latency, 0.99)).toBeCloseTo(64, 0);
    expect(draws[19_800]).toBeGreaterThan(58);
    expect(draws[19_800]).toBeLessThan(70);
    expect(describeLatency(latency)).toBe("log-normal, median 20 ms, σ 0.5 (p99 64 ms)");
  });

  it("reads a fixed delay as before, and refuses a spec it cannot read", () => {
    expect(delays(parseLatency("2000"), 1)()).toBe(2000);
    expect(parseLatency("fixed:0")).toEqual({ kind: "fixed", ms: 0 });
    for (const bad of ["lognormal:20", "lognormal:0:0.5", "pareto:1:2", "fixed:-1", "fast"]) {
      expect(() => parseLatency(bad), bad).toThrow(/lognormal:<median ms>:<sigma>/);
    }
  });
});

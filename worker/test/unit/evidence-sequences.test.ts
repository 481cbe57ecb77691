import { describe, expect, it } from "vitest";
import { LatencyHistogram } from "../../src/evidence/histogram.ts";
import { bets, type PairCounts } from "../../src/evidence/verdict/betting.ts";
import { ThresholdTable } from "../../src/evidence/verdict/mixture.ts";
import { quantileBand, tailOf } from "../../src/evidence/verdict/quantile.ts";
import { logIncompleteBeta } from "../../src/evidence/verdict/special.ts";

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}

/** I_x(a, b) for whole a and b, as a binomial tail: P(at least a of a+b-1 trials succeed at rate x). */
function binomialTail(x: number, a: number, b: number): number {
  const n = a + b - 1;
  let logChoose = 0;
  let sum = 0;
  for (let j = 0; j <= n; j++) {
    if (j > 0) logChoose += Math.log(n - j + 1) - Math.log(j);
    if (j >= a) sum += Math.exp(logChoose + j * Math.log(x) + (n - j) * Math.log1p(-x));
  }
  return sum;
}

describe("the incomplete beta function", () => {
  it("agrees with the binomial tail it equals for whole parameters, small and large", () => {
    for (const [x, a, b] of [
      [0.3, 2, 3],
      [0.01, 3, 97],
      [0.02, 40, 1960],
      [0.5, 10, 10],
      [0.99, 300, 5],
      [0.005, 1, 2000],
    ] as const) {
      const expected = binomialTail(x, a, b);
      const got = Math.exp(logIncompleteBeta(x, a, b));
      expect(Math.abs(got - expected) / expected, `I_${x}(${a}, ${b})`).toBeLessThan(1e-8);
    }
  });
});

/*
 * The property the verdict rests on: under the null, a test read after
 * every observation rejects at some point in at most α of runs. Checked at
 * the worst case of each null (its boundary), α = 0.05, so a few hundred
 * runs can see a violation.
 */
const ALPHA = 0.05;
/** Monte Carlo slack: 3 standard errors of a 5 % rate over the runs. */
const slack = (runs: number) => 3 * Math.sqrt((ALPHA * (1 - ALPHA)) / runs);

describe("one-sided rate tests read at every look", () => {
  for (const side of ["above", "below"] as const) {
    it(`reject a true rate of 1 % as ${side} it in at most α of runs`, () => {
      const p0 = 0.01;
      const prior = side === "above" ? { mean: 0.03, weight: 100 } : { mean: 0.002, weight: 100 };
      const table = new ThresholdTable(side, p0, prior, ALPHA);
      const runs = 400;
      const steps = 3000;
      let rejected = 0;
      for (let run = 0; run < runs; run++) {
        const r = random(run + 1);
        let k = 0;
        for (let n = 1; n <= steps; n++) {
          if (r() < p0) k++;
          const t = table.at(n);
          if (side === "above" ? k >= t : k <= t) {
            rejected++;
            break;
          }
        }
      }
      expect(rejected / runs).toBeLessThanOrEqual(ALPHA + slack(runs));
    });
  }
});

describe("the paired betting test read at every look", () => {
  it("rejects 'the shadow fails at most 1 point more often' in at most α of runs where it is exactly 1 point", () => {
    const runs = 300;
    let rejected = 0;
    for (let run = 0; run < runs; run++) {
      const r = random(1000 + run);
      const counts: PairCounts = { shadowOnly: 0, mainOnly: 0, total: 0 };
      for (let n = 1; n <= 4000; n++) {
        const u = r();
        // Shadow alone fails 2 %, main alone 1 %: the mean difference is exactly the limit.
        if (u < 0.02) counts.shadowOnly++;
        else if (u < 0.03) counts.mainOnly++;
        counts.total++;
        if (n % 10 === 0 && bets("above", counts, 0.01, ALPHA)) {
          rejected++;
          break;
        }
      }
    }
    expect(rejected / runs).toBeLessThanOrEqual(ALPHA + slack(runs));
  });

  it("finds a 3-point increase, and clears a shadow as reliable as main", () => {
    const worse: PairCounts = { shadowOnly: 80, mainOnly: 20, total: 2000 };
    expect(bets("above", worse, 0.01, 0.003)).toBe(true);
    const same: PairCounts = { shadowOnly: 50, mainOnly: 50, total: 5000 };
    expect(bets("below", same, 0.01, 0.01)).toBe(true);
    expect(bets("above", same, 0.01, 0.003)).toBe(false);
  });
});

describe("quantile bands read off a histogram", () => {
  it("hold the true p99 and median at every look in at least 1 − α of runs", () => {
    // Lognormal, median 30 ms, σ 1: the true quantiles are known.
    const trueP99 = 30 * Math.exp(2.326348);
    const runs = 200;
    let missed = 0;
    for (let run = 0; run < runs; run++) {
      const r = random(5000 + run);
      const histogram = new LatencyHistogram();
      for (let n = 1; n <= 3000; n++) {
        const normal = Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r());
        histogram.add(30 * Math.exp(normal));
        if (n % 50 !== 0) continue;
        const tail = tailOf(histogram);
        const p99 = quantileBand(tail, 0.99, ALPHA / 4, ALPHA / 4);
        const p50 = quantileBand(tail, 0.5, ALPHA / 4, ALPHA / 4);
        if (p99.low > trueP99 || p99.high < trueP99 || p50.low > 30 || p50.high < 30) {
          missed++;
          break;
        }
      }
    }
    expect(missed / runs).toBeLessThanOrEqual(ALPHA + slack(runs));
  });
});

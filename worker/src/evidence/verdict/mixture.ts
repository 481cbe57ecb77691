import { logBeta, logIncompleteBeta } from "./special.ts";

/*
 * One-sided tests of a Bernoulli rate that hold at every look at once.
 *
 * For `k` events in `n` trials, the likelihood ratio of a rate q against p0,
 * (q/p0)^k ((1-q)/(1-p0))^(n-k), is a nonnegative martingale while the rate
 * is p0, and a supermartingale for every rate on the far side of p0 from q.
 * So is its average over q drawn from a Beta prior cut to one side of p0.
 * By Ville's inequality such a process ever reaches 1/α with probability at
 * most α, however often it is read (Robbins' conjugate mixtures; Howard,
 * Ramdas, McAuliffe & Sekhon 2021). The average has a closed form:
 * B(a+k, b+n-k) / B(a, b) times the prior's mass on the cut side after and
 * before the data, over the likelihood at p0.
 */

/** A Beta(a, b) prior over the rate, written as its mean and its weight in pseudo-observations. */
export interface BetaPrior {
  mean: number;
  weight: number;
}

/** The side of p0 the test looks for evidence on. */
export type Side = "above" | "below";

/** log of the mixture process: evidence that the rate is above (or below) p0. */
function logMixture(side: Side, k: number, n: number, p0: number, prior: BetaPrior): number {
  const a = prior.mean * prior.weight;
  const b = (1 - prior.mean) * prior.weight;
  const a1 = a + k;
  const b1 = b + n - k;
  // The prior's and the posterior's mass on the cut side.
  const mass = (x: number, y: number) =>
    side === "above" ? logIncompleteBeta(1 - p0, y, x) : logIncompleteBeta(p0, x, y);
  const likelihood = k * Math.log(p0) + (n - k) * Math.log1p(-p0);
  return logBeta(a1, b1) - logBeta(a, b) + mass(a1, b1) - mass(a, b) - likelihood;
}

/** Whether k in n is evidence, at level α, that the rate is on `side` of p0. */
export function rejects(side: Side, k: number, n: number, p0: number, prior: BetaPrior, alpha: number): boolean {
  if (n <= 0) return false;
  return logMixture(side, k, n, p0, prior) >= Math.log(1 / alpha);
}

/**
 * The count where the test starts rejecting at n trials: for `above`, the
 * smallest k that rejects (n + 1 when none does); for `below`, the largest
 * (-1 when none does). The process rises with k above and falls with k
 * below, so a bisection finds it.
 */
export function threshold(side: Side, n: number, p0: number, prior: BetaPrior, alpha: number): number {
  const test = (k: number) => rejects(side, k, n, p0, prior, alpha);
  if (side === "above") {
    if (!test(n)) return n + 1;
    let low = -1;
    let high = n;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (test(middle)) high = middle;
      else low = middle;
    }
    return high;
  }
  if (!test(0)) return -1;
  let low = 0;
  let high = n + 1;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (test(middle)) low = middle;
    else high = middle;
  }
  return low;
}

/** Thresholds per n, remembered: the latency rules read them at every look. Bounded, like everything per isolate. */
export class ThresholdTable {
  readonly #known = new Map<number, number>();
  readonly #find: (n: number) => number;

  constructor(side: Side, p0: number, prior: BetaPrior, alpha: number) {
    this.#find = (n) => threshold(side, n, p0, prior, alpha);
  }

  at(n: number): number {
    let k = this.#known.get(n);
    if (k === undefined) {
      k = this.#find(n);
      if (this.#known.size >= 50_000) this.#known.clear();
      this.#known.set(n, k);
    }
    return k;
  }
}

/**
 * The rates not yet ruled out: `low` is the largest p0 at which k in n is
 * evidence of a rate above it, `high` the smallest at which it is evidence
 * of a rate below. Each edge comes from the same one-sided tests as the
 * verdict (at the verdict's levels: the low edge at the fail test's, the
 * high edge at the pass test's), so the band holds at every look at once.
 */
export function rateBand(
  k: number,
  n: number,
  priors: (p0: number) => { above: BetaPrior; below: BetaPrior },
  alpha: { low: number; high: number },
): { low: number; high: number } {
  return { low: rateLow(k, n, priors, alpha.low), high: rateHigh(k, n, priors, alpha.high) };
}

/** The band's low edge alone (see rateBand). */
export function rateLow(
  k: number,
  n: number,
  priors: (p0: number) => { above: BetaPrior; below: BetaPrior },
  alpha: number,
): number {
  if (n <= 0) return 0;
  return edge(0, k / n, (p0) => rejects("above", k, n, p0, priors(p0).above, alpha), true);
}

/** The band's high edge alone (see rateBand). */
export function rateHigh(
  k: number,
  n: number,
  priors: (p0: number) => { above: BetaPrior; below: BetaPrior },
  alpha: number,
): number {
  if (n <= 0) return 1;
  return edge(k / n, 1, (p0) => rejects("below", k, n, p0, priors(p0).below, alpha), false);
}

/** Bisection for the boundary of where `test` holds: at the low end of [from, to] (rising) or the high end. */
function edge(from: number, to: number, test: (p0: number) => boolean, lowSide: boolean): number {
  let inside = lowSide ? from : to;
  let outside = lowSide ? to : from;
  if (lowSide ? !test(Math.max(inside, 1e-9)) : !test(Math.min(inside, 1 - 1e-9))) return inside;
  for (let i = 0; i < 40; i++) {
    const middle = (inside + outside) / 2;
    if (test(Math.min(Math.max(middle, 1e-9), 1 - 1e-9))) inside = middle;
    else outside = middle;
  }
  return inside;
}

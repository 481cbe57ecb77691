import { bets, increaseBand, type PairCounts } from "./betting.ts";
import { type BetaPrior, rateBand, rejects } from "./mixture.ts";
import type { Gate } from "./policy.ts";
import { type QuantileBand, quantileBand, type Tail } from "./quantile.ts";

/*
 * The four rules, each a pair of one-sided anytime-valid tests: one for
 * `fail` (the shadow is clearly past the limit) and one for `pass` (clearly
 * within the pass margin). `fail` is any rule failing, so the fail tests
 * split gate.alpha between them (a union bound); `pass` needs every rule to
 * pass, so each pass test may use all of it (an intersection-union test).
 * Within a latency rule a wrong verdict needs one side's bound to be wrong,
 * so the rule's share is split between the sides.
 */

export type RuleName = "differences" | "errors" | "p99" | "p50";

/** Shares of gate.alpha for a false fail; they add up to 1. */
const FAIL_SHARE = {
  differences: 0.1,
  errors: 0.3,
  p99: { shadow: 0.2, main: 0.3 },
  p50: { shadow: 0.05, main: 0.05 },
} as const;

/** What the rules read: cumulative counts and the two sides' histograms, nothing per request. */
interface RuleInput {
  /** Compared requests (same + different) and those with a difference that counts. */
  compared: number;
  different: number;
  /** Paired outcomes over every copy with an outcome; `down` copies count as the shadow's failures. */
  pairs: PairCounts;
  /** Each side's latencies as the quantile bands read them (see quantile.ts). */
  tails: { main: Tail; shadow: Tail };
}

/** One rule at one look. `at(scale)` judges the same rates with `scale` times the evidence. */
export interface RuleState {
  name: RuleName;
  fail: boolean;
  pass: boolean;
  at: (scale: number) => "fail" | "pass" | undefined;
}

const decide = (fail: boolean, pass: boolean) => (fail ? "fail" : pass ? "pass" : undefined);

/** Priors for the difference rate around a limit p0: an excess of about 3×, or a rate well under. */
function diffPriors(p0: number): { above: BetaPrior; below: BetaPrior } {
  const weight = Math.min(10_000, Math.max(10, 1 / p0));
  return {
    above: { mean: Math.min(3 * p0, (1 + p0) / 2), weight },
    below: { mean: p0 / 5, weight },
  };
}

export function differenceRule(
  input: RuleInput,
  gate: Gate,
): RuleState & { band: () => { low: number; high: number } } {
  const priors = diffPriors(gate.maxDiffRate);
  const judgeAt = (k: number, n: number) => ({
    fail: rejects("above", k, n, gate.maxDiffRate, priors.above, gate.alpha * FAIL_SHARE.differences),
    pass: rejects("below", k, n, gate.maxDiffRate, priors.below, gate.alpha),
  });
  const now = judgeAt(input.different, input.compared);
  return {
    name: "differences",
    ...now,
    at: (scale) => {
      const then = judgeAt(input.different * scale, input.compared * scale);
      return decide(then.fail, then.pass);
    },
    band: () =>
      rateBand(input.different, input.compared, diffPriors, {
        low: gate.alpha * FAIL_SHARE.differences,
        high: gate.alpha,
      }),
  };
}

export function errorRule(input: RuleInput, gate: Gate): RuleState & { band: () => { low: number; high: number } } {
  const judgeAt = (pairs: PairCounts) => ({
    fail: bets("above", pairs, gate.maxErrorRateIncrease, gate.alpha * FAIL_SHARE.errors),
    pass: bets("below", pairs, gate.maxErrorRateIncrease, gate.alpha),
  });
  const now = judgeAt(input.pairs);
  const scaled = (scale: number): PairCounts => ({
    shadowOnly: input.pairs.shadowOnly * scale,
    mainOnly: input.pairs.mainOnly * scale,
    total: input.pairs.total * scale,
  });
  return {
    name: "errors",
    ...now,
    at: (scale) => {
      const then = judgeAt(scaled(scale));
      return decide(then.fail, then.pass);
    },
    band: () => increaseBand(input.pairs, { low: gate.alpha * FAIL_SHARE.errors, high: gate.alpha }),
  };
}

interface LatencyState extends RuleState {
  main: QuantileBand;
  shadow: QuantileBand;
}

/**
 * A quantile of the shadow against the same quantile of main, on the same
 * requests: fail when the shadow's low edge is above the fail margin over
 * main's high edge, pass when the shadow's high edge is under the pass
 * margin over main's low edge. Each margin has the additive floor
 * minP99DeltaMs, so a fast service is not failed for a few ms.
 */
export function latencyRule(input: RuleInput, gate: Gate, name: "p99" | "p50"): LatencyState {
  const quantile = name === "p99" ? 0.99 : 0.5;
  const share = FAIL_SHARE[name];
  const { main, shadow } = input.tails;
  const judgeAt = (scale: number) => {
    const m = quantileBand(main, quantile, gate.alpha / 2, gate.alpha * share.main, scale);
    const s = quantileBand(shadow, quantile, gate.alpha * share.shadow, gate.alpha / 2, scale);
    const fail = s.low > Math.max(gate.maxP99Ratio * m.high, m.high + gate.minP99DeltaMs);
    const passRatio = Math.max(gate.passP99Ratio, gate.maxP99Ratio);
    const pass = s.high < Math.max(passRatio * m.low, m.low + gate.minP99DeltaMs);
    return { fail, pass, main: m, shadow: s };
  };
  const now = judgeAt(1);
  return {
    name,
    ...now,
    at: (scale) => {
      const then = judgeAt(scale);
      return decide(then.fail, then.pass);
    },
  };
}

import { formatCount, formatCounted } from "../count.ts";
import { LatencyHistogram } from "../histogram.ts";
import type { PairCounts } from "./betting.ts";
import { rateBand } from "./mixture.ts";
import type { Gate } from "./policy.ts";
import { tailOf } from "./quantile.ts";
import { differenceLines, errorLines, type Lines, latencyLines } from "./reasons.ts";
import { differenceRule, errorRule, latencyRule, type RuleState } from "./rules.ts";
import type { Confidence, FieldReport, LatencyBand, ShadowReport, Verdict } from "./types.ts";

export interface JudgeInput {
  requests: ShadowReport["requests"];
  errors: ShadowReport["errors"];
  /** Per request: shadow failed and main did not, and the reverse (`down` copies are added here). */
  pairs: { shadowOnly: number; mainOnly: number };
  latencyMain: LatencyHistogram;
  latencyShadow: LatencyHistogram;
  fields: readonly FieldReport[];
}

export interface Judgement {
  verdict: Verdict;
  reasons: string[];
  confidence: Confidence;
}

/**
 * The verdict. Nothing is decided on fewer than `minRequests` copies with an
 * outcome. `fail` when any rule's test says the shadow is clearly past its
 * limit; `pass` when every rule's test says it is clearly within its pass
 * margin (and enough bodies were compared); otherwise `inconclusive`,
 * saying what is missing and about how many more requests at the current
 * rates would decide it. Every test holds at any look (see rules.ts).
 */
export function judge(input: JudgeInput, gate: Gate): Judgement {
  const { requests } = input;
  const { outcomes, pairs, rules } = rulesOf(input, gate);
  const [differences, errors, p99, p50] = rules;
  const diffBand =
    requests.compared > 0 ? { rate: requests.different / requests.compared, ...differences.band() } : null;
  const shadowFailures = requests.error + requests.down;
  const confidence: Confidence = {
    diffRate: diffBand && rounded(diffBand),
    errorRate: rounded({
      rate: fraction(shadowFailures, outcomes),
      ...rateBand(shadowFailures, outcomes, errorPriors, { low: gate.alpha, high: gate.alpha }),
    }),
    mainErrorRate: fraction(input.errors.main, requests.mirrored),
    errorIncrease: rounded({ rate: fraction(pairs.shadowOnly - pairs.mainOnly, outcomes), ...errors.band() }),
    latencySamples: Math.min(input.latencyMain.count, input.latencyShadow.count),
    latencyMs: {
      p50: { main: band(p50.main), shadow: band(p50.shadow) },
      p99: { main: band(p99.main), shadow: band(p99.shadow) },
    },
    alpha: gate.alpha,
    anytime: true,
    moreRequests: null,
  };
  const lines: Lines = {
    differences: differenceLines(requests, confidence, gate, input.fields),
    errors: errorLines(requests, confidence, gate),
    p99: latencyLines("p99", confidence, gate),
    p50: latencyLines("p50", confidence, gate),
  };
  const decision = decide(rules, requests, gate);
  if (decision.verdict === "fail") {
    return { verdict: "fail", reasons: decision.failing.map((rule) => lines[rule.name].fail), confidence };
  }
  if (decision.verdict === "pass") {
    return { verdict: "pass", reasons: rules.map((rule) => lines[rule.name].pass), confidence };
  }
  const reasons = decision.missing.map((what) => (typeof what === "function" ? what() : lines[what.name].pending));
  if (outcomes === 0) return { verdict: "inconclusive", reasons: [...reasons, noCopiesYet(gate)], confidence };
  const more = moreRequests(rules, outcomes, gate.minRequests);
  confidence.moreRequests = more?.requests ?? null;
  const uncomparable = requests.compared === 0 && requests.notCompared > 0;
  const tail = more
    ? `about ${formatCount(more.requests)} more requests at these rates would ${more.way} it`
    : uncomparable
      ? "it cannot pass until bodies are compared: raise COMPARE_MAX_BODY_BYTES, or send requests with smaller answers"
      : "more requests are needed to decide";
  return { verdict: "inconclusive", reasons: [...reasons, tail], confidence };
}

/** The verdict alone, by the same rules as `judge`, without the bands and words: what a simulation reads. */
export function verdictOf(input: JudgeInput, gate: Gate): Verdict {
  return decide(rulesOf(input, gate).rules, input.requests, gate).verdict;
}

function rulesOf(input: JudgeInput, gate: Gate) {
  const { requests } = input;
  const outcomes = requests.mirrored + requests.down;
  const pairs: PairCounts = {
    shadowOnly: input.pairs.shadowOnly + requests.down,
    mainOnly: input.pairs.mainOnly,
    total: outcomes,
  };
  const tails = { main: tailOf(input.latencyMain), shadow: tailOf(input.latencyShadow) };
  const ruleInput = { compared: requests.compared, different: requests.different, pairs, tails };
  const rules = [
    differenceRule(ruleInput, gate),
    errorRule(ruleInput, gate),
    latencyRule(ruleInput, gate, "p99"),
    latencyRule(ruleInput, gate, "p50"),
  ] as const;
  return { outcomes, pairs, rules };
}

/** What a rule, or a count, still lacks before a pass (words made only when a report asks). */
type Missing = RuleState | (() => string);

function decide(
  rules: readonly RuleState[],
  requests: ShadowReport["requests"],
  gate: Gate,
): { verdict: Verdict; failing: RuleState[]; missing: Missing[] } {
  const outcomes = requests.mirrored + requests.down;
  if (outcomes < gate.minRequests) {
    const line = () =>
      `${formatCounted(outcomes, "copy", "copies")} with an outcome, fewer than the ${formatCount(gate.minRequests)} the gate needs`;
    return { verdict: "inconclusive", failing: [], missing: [line] };
  }
  const failing = rules.filter((rule) => rule.fail);
  if (failing.length > 0) return { verdict: "fail", failing, missing: [] };
  const missing: Missing[] = rules.filter((rule) => !rule.pass);
  if (requests.compared < gate.minRequests) {
    missing.unshift(() => {
      const why =
        requests.notCompared > 0
          ? `; ${formatCount(requests.notCompared)} answered but could not be compared (bodies over the cap, streamed, or past the memory bound)`
          : "";
      return `${formatCount(requests.compared)} compared requests, fewer than the ${formatCount(gate.minRequests)} the gate needs${why}`;
    });
  }
  if (requests.unrecorded * 100 >= requests.mirrored && requests.unrecorded > 0) {
    missing.push(
      () =>
        `${formatCount(requests.unrecorded)} of ${formatCount(requests.mirrored)} requests lost their field detail under memory pressure`,
    );
  }
  return { verdict: missing.length > 0 ? "inconclusive" : "pass", failing: [], missing };
}

/**
 * With no copies there are no rates to project: the least number of copies
 * that would pass a shadow identical to main (no differences, no errors, the
 * same latency), by the same tests, which is what the estimate can honestly say.
 */
function noCopiesYet(gate: Gate): string {
  const one = new LatencyHistogram();
  one.add(IDENTICAL_MS, 1);
  const requests = { ...emptyRequests, mirrored: 1, compared: 1, same: 1 };
  const twin = { requests, errors: { main: 0, shadow: 0 }, pairs: { shadowOnly: 0, mainOnly: 0 } };
  const input: JudgeInput = { ...twin, latencyMain: one, latencyShadow: one, fields: [] };
  const more = moreRequests(rulesOf(input, gate).rules, 1, gate.minRequests);
  const least = more
    ? `; a shadow identical to main would need at least ${formatCount(roughly(more.requests + 1))} to pass`
    : "";
  return `no copies have arrived yet${least}`;
}

const emptyRequests: ShadowReport["requests"] = {
  mirrored: 0,
  compared: 0,
  same: 0,
  different: 0,
  error: 0,
  notCompared: 0,
  down: 0,
  skipped: 0,
  unrecorded: 0,
  canary: 0,
};

/** The latency of the imagined identical twin: above the gate's additive floor, so only the ratio counts. */
const IDENTICAL_MS = 100;

/** Priors of the shadow's own error rate, shown beside the paired increase: a broad one. */
const errorPriors = () => ({ above: { mean: 0.5, weight: 2 }, below: { mean: 0.5, weight: 2 } });

/** How far to look ahead for a decision: past 1,000× the evidence so far, "more requests are needed". */
const MAX_SCALE = 1024;

/**
 * The requests still to come, from the same tests run on the same rates
 * with more evidence: the soonest any rule heading for a fail decides, or
 * else the latest of the rules still to pass (all of them must).
 */
function moreRequests(
  rules: readonly RuleState[],
  outcomes: number,
  minRequests: number,
): { requests: number; way: "pass" | "fail" } | undefined {
  if (outcomes <= 0) return { requests: minRequests, way: "pass" };
  const estimates: { scale: number; way: "pass" | "fail" }[] = [];
  for (const rule of rules) {
    if (rule.pass) continue;
    const found = firstDecision(rule);
    if (!found) return undefined;
    estimates.push(found);
  }
  const failing = estimates.filter((e) => e.way === "fail");
  // Every rule already passes: only the gate's floor is missing.
  const pool = failing.length > 0 ? failing : [{ scale: 1 }, ...estimates];
  const scale = failing.length > 0 ? Math.min(...pool.map((e) => e.scale)) : Math.max(...pool.map((e) => e.scale));
  const total = Math.max(Math.ceil(scale * outcomes), minRequests);
  const more = total - outcomes;
  if (!(more > 0)) return undefined;
  return { requests: roughly(more), way: failing.length > 0 ? "fail" : "pass" };
}

/** The least scale (to within 5 %) at which a rule decides, by doubling and then bisection. */
function firstDecision(rule: RuleState): { scale: number; way: "pass" | "fail" } | undefined {
  let low = 1;
  let high = 2;
  let way = rule.at(high);
  while (!way) {
    low = high;
    high *= 2;
    if (high > MAX_SCALE) return undefined;
    way = rule.at(high);
  }
  while (high / low > 1.05) {
    const middle = Math.sqrt(low * high);
    const then = rule.at(middle);
    if (then) {
      high = middle;
      way = then;
    } else low = middle;
  }
  return { scale: high, way };
}

/** About `n`, to two significant figures: "about 140 more requests", not "about 141". */
export function roughly(n: number): number {
  if (n < 100) return Math.max(1, Math.round(n));
  const unit = 10 ** (Math.floor(Math.log10(n)) - 1);
  return Math.round(n / unit) * unit;
}

function band(b: { low: number; high: number }): LatencyBand {
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return { low: round(b.low), high: Number.isFinite(b.high) ? round(b.high) : null };
}

/** Rounded to a millionth: what a band is read for, and free of float dust. */
function rounded<T extends { rate: number; low: number; high: number }>(interval: T): T {
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return { ...interval, low: round(interval.low), high: round(interval.high) };
}

export function fraction(count: number, total: number): number {
  return total > 0 ? count / total : 0;
}

import { formatCount } from "../count.ts";
import type { Gate } from "./policy.ts";
import type { RuleName } from "./rules.ts";
import type { Confidence, FieldReport, ShadowReport } from "./types.ts";

/** What a rule says when it fails, passes, or has not decided yet. */
interface RuleLines {
  fail: string;
  pass: string;
  pending: string;
}

export type Lines = Record<RuleName, RuleLines>;

/** Said of every band: it is a confidence sequence, not a one-look interval. */
const ANY_LOOK = "at any look";

export function differenceLines(
  requests: ShadowReport["requests"],
  confidence: Confidence,
  gate: Gate,
  fields: readonly FieldReport[],
): RuleLines {
  const line = `${formatCount(requests.different)} of ${formatCount(requests.compared)} compared requests differ`;
  const band = confidence.diffRate;
  const limit = percent(gate.maxDiffRate);
  const top = fields
    .filter((f) => f.counts)
    .slice(0, 3)
    .map((f) => `${f.path} (${f.kind}, ${percent(f.rate)})`);
  if (!band) {
    return { fail: line, pass: line, pending: "no request was compared yet, so differences cannot be judged" };
  }
  return {
    fail: `${line} (${percent(band.rate)}, at least ${percent(band.low)} ${ANY_LOOK}), more than the ${limit} allowed; top fields: ${top.join(", ")}`,
    pass: `${line} (${percent(band.rate)}, at most ${percent(band.high)} ${ANY_LOOK}), within ${limit}`,
    pending: `${line} (${percent(band.rate)}, between ${percent(band.low)} and ${percent(band.high)} ${ANY_LOOK}), not yet clearly within ${limit}`,
  };
}

export function errorLines(requests: ShadowReport["requests"], confidence: Confidence, gate: Gate): RuleLines {
  const outcomes = requests.mirrored + requests.down;
  const increase = confidence.errorIncrease;
  const line =
    `shadow error rate ${percent(confidence.errorRate.rate)} (${formatCount(requests.error)} errors, ` +
    `${formatCount(requests.down)} down, of ${formatCount(outcomes)}) against main's ${percent(confidence.mainErrorRate)} ` +
    `on the same requests: ${points(increase.rate)}`;
  const limit = `${points(gate.maxErrorRateIncrease)} allowed`;
  return {
    fail: `${line}, at least ${points(increase.low)} ${ANY_LOOK}, more than the ${limit}`,
    pass: `${line}, at most ${points(increase.high)} ${ANY_LOOK}, within the ${limit}`,
    pending: `${line}, between ${points(increase.low)} and ${points(increase.high)} ${ANY_LOOK}, not yet clearly within the ${limit}`,
  };
}

export function latencyLines(which: "p99" | "p50", confidence: Confidence, gate: Gate): RuleLines {
  const { main, shadow } = confidence.latencyMs[which];
  const name = which === "p99" ? "p99" : "median";
  const ms = (x: number | null) => (x === null ? "unbounded" : `${x} ms`);
  const line =
    `shadow ${name} between ${ms(shadow.low)} and ${ms(shadow.high)} against main's between ` +
    `${ms(main.low)} and ${ms(main.high)} on the same requests (${ANY_LOOK})`;
  const passRatio = Math.max(gate.passP99Ratio, gate.maxP99Ratio);
  return {
    fail: `${line}: more than ${gate.maxP99Ratio}× and ${gate.minP99DeltaMs} ms slower`,
    pass: `${line}: within ${passRatio}× or ${gate.minP99DeltaMs} ms`,
    pending: `${line}: not yet clearly within ${passRatio}× or ${gate.minP99DeltaMs} ms`,
  };
}

export function percent(rate: number): string {
  return `${Number((rate * 100).toFixed(2))}%`;
}

/** A difference of rates in percentage points, signed: "+0.8 points". */
function points(rate: number): string {
  const value = Number((rate * 100).toFixed(2));
  return `${value > 0 ? "+" : ""}${value} points`;
}

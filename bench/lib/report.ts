// Results of one run: the JSON record, the Markdown table and the target ratios.
// Pure functions, so the arithmetic is tested without running any load.
import { acrossRounds, type RoundValue } from "./rounds.ts";

export type TargetKind = "origin" | "bare-worker" | "gateway" | "nginx";

export interface ScenarioResult {
  id: string;
  name: string;
  target: TargetKind;
  shadows: number;
  shadowDelayMs: number;
  method: "GET" | "POST";
  bodyBytes: number;
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** More of the latency distribution, for reading tails. */
  latencyMs: { p90: number; p999: number; max: number };
  errors: number;
  /** CPU time of the runtime's processes over the run, per completed request; null for direct-to-origin. */
  cpuMsPerReq: number | null;
  /** The same, per process label (the Worker's workerd, wrangler's dev proxy, nginx's master and worker). */
  cpuMsPerReqByProcess: Record<string, number> | null;
  /** Peak of the summed resident memory of the runtime's counted processes during the run. */
  peakRssMb: number | null;
  /** Each process label's own peak resident memory. */
  peakRssMbByProcess: Record<string, number> | null;
  /** Copies the live shadows received / (requests main received x live shadows); null without live shadows. */
  shadowCopiesDelivered: number | null;
  /** Evidence ledger writes per proxied request, for gateways that compare answers; null otherwise. */
  ledgerWritesPerReq?: number | null;
  /** Share of the machine's CPU that processes the bench did not start used during the run. */
  otherLoadPct: number;
  /** A CPU profile was taken during the run, which slows the Worker: do not compare its numbers. */
  profiled: boolean;
  /** For a row summing up repeated rounds: how many, and the range of req/s and p99 over them. */
  rounds?: number;
  spread?: { rps: [number, number]; p99Ms: [number, number] };
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  kernel: string;
  node: string;
  wrangler: string;
  workerd: string;
  nginx: string | null;
  wrk: string;
  load: string;
  /** The commit the gateway under test was built from. */
  gateway: string;
}

export interface RunRecord {
  machine: MachineInfo;
  mode: "quick" | "full";
  startedAt: string;
  /** Each scenario's medians over the rounds. */
  scenarios: ScenarioResult[];
  /** Every round's results, in the order they ran. */
  rounds: ScenarioResult[][];
  /** Requests a second of the open-loop (steady) scenarios: half of what the heaviest set-up carried. */
  steadyRate: number | null;
  targets: TargetCheck[];
}

export interface TargetCheck extends RoundValue {
  label: string;
  /** The median over the rounds of the ratio taken within each round. */
  value: number | null;
  bound: number;
  /** "at-least": value >= bound is met; "at-most": value <= bound is met. */
  direction: "at-least" | "at-most";
  met: boolean | null;
}

/** CPU the machine spent outside the bench's processes, as a percentage of all cores over the wall time. */
export function otherLoadPercent(
  before: { machineMs: number; oursMs: number },
  after: { machineMs: number; oursMs: number },
  wallMs: number,
  cores: number,
): number {
  const others = after.machineMs - before.machineMs - (after.oursMs - before.oursMs);
  return wallMs > 0 && cores > 0 ? Math.max(0, (others / (wallMs * cores)) * 100) : 0;
}

/** The scenario ids that the targets compare. */
export const IDS = {
  direct: "direct",
  bareWorker: "bare-worker",
  bareWorkerAssets: "bare-worker-assets",
  bareMirrorSlow: "bare-worker-assets-3-shadows-1-slow",
  steadyBare: "bare-worker-assets-steady",
  steadyBareMirrorSlow: "bare-worker-assets-3-shadows-1-slow-steady",
  pinned: "gateway-pinned",
  noShadows: "gateway-0-shadows",
  captureAll: "gateway-0-shadows-capture-100pct",
  oneShadow: "gateway-1-shadow",
  canary: "gateway-1-shadow-canary-20pct",
  threeShadows: "gateway-3-shadows",
  slowShadow: "gateway-3-shadows-1-slow",
  slowShadowCompareOff: "gateway-3-shadows-1-slow-compare-off",
  steadyNoShadows: "gateway-0-shadows-steady",
  steadyThreeShadows: "gateway-3-shadows-steady",
  steadySlowShadow: "gateway-3-shadows-1-slow-steady",
  steadyCanary: "gateway-1-shadow-canary-20pct-steady",
  deadShadow: "gateway-dead-shadow",
  postNoShadows: "gateway-post-256k-0-shadows",
  postThreeShadows: "gateway-post-256k-3-shadows",
  jsonCompare: "gateway-json-3-shadows-compare",
  jsonCompareOff: "gateway-json-3-shadows-compare-off",
  steadyJsonCompare: "gateway-json-3-shadows-compare-steady",
  steadyJsonCompareOff: "gateway-json-3-shadows-compare-off-steady",
  jsonNoise: "gateway-json-3-shadows-noise",
  tenPercent: "gateway-3-shadows-10pct",
  deadMarked: "gateway-dead-shadow-marked",
  nginxProxy: "nginx-proxy",
  nginxOneMirror: "nginx-1-mirror",
  nginxThreeMirrors: "nginx-3-mirrors",
  nginxSlowMirror: "nginx-3-mirrors-1-slow",
} as const;

type Metric = "rps" | "p50Ms" | "p99Ms" | "cpuMsPerReq";

/** numerator's metric / denominator's metric, or null when either is missing or the denominator is 0. */
export function ratio(
  results: ScenarioResult[],
  numerator: string,
  denominator: string,
  metric: Metric,
): number | null {
  const top = results.find((r) => r.id === numerator)?.[metric];
  const bottom = results.find((r) => r.id === denominator)?.[metric];
  if (top === undefined || bottom === undefined || top === null || bottom === null || bottom === 0) return null;
  return top / bottom;
}

type Measure = (round: ScenarioResult[]) => number | null;

/** A target over rounds: the ratio in each round, met when the median of the rounds meets the bound. */
function checkOver(rounds: readonly ScenarioResult[][]) {
  return (label: string, measure: Measure, direction: TargetCheck["direction"], bound: number): TargetCheck => {
    const over = acrossRounds(rounds, measure);
    const { value } = over;
    const met = value === null ? null : direction === "at-least" ? value >= bound : value <= bound;
    return { label, ...over, bound, direction, met };
  };
}

/** The targets: (a) a slow shadow costs main little, (b) pinned routing costs little over a bare Worker. */
export function targetChecks(rounds: readonly ScenarioResult[][]): TargetCheck[] {
  const check = checkOver(rounds);
  return [
    check(
      "(a) throughput, 3 shadows one at 2 s / no shadows",
      (r) => ratio(r, IDS.slowShadow, IDS.noShadows, "rps"),
      "at-least",
      0.8,
    ),
    check(
      "(a) p99, 3 shadows one at 2 s / no shadows",
      (r) => ratio(r, IDS.slowShadow, IDS.noShadows, "p99Ms"),
      "at-most",
      1.5,
    ),
    // What the runtime itself charges for the copies: a bare Worker that only sends them (bench/passthrough).
    // Comparison is left out on both sides; what it adds is target (c).
    check(
      "(a) ceiling: throughput, gateway 3 shadows one at 2 s, comparison off / bare Worker sending the same copies",
      (r) => ratio(r, IDS.slowShadowCompareOff, IDS.bareMirrorSlow, "rps"),
      "at-least",
      0.9,
    ),
    check(
      "(a) ceiling: p99, gateway 3 shadows one at 2 s, comparison off / bare Worker sending the same copies",
      (r) => ratio(r, IDS.slowShadowCompareOff, IDS.bareMirrorSlow, "p99Ms"),
      "at-most",
      1.5,
    ),
    // What users feel at an ordinary load (see bench/lib/paced.ts): open loop at half of what the gateway with
    // 3 shadows carried flat out in this run, main's latency with shadows or a canary / without.
    check(
      "(f) user-felt p50, 3 shadows / no shadows (open loop at half the 3-shadow capacity)",
      (r) => ratio(r, IDS.steadyThreeShadows, IDS.steadyNoShadows, "p50Ms"),
      "at-most",
      1.1,
    ),
    check(
      "(f) user-felt p99, 3 shadows / no shadows",
      (r) => ratio(r, IDS.steadyThreeShadows, IDS.steadyNoShadows, "p99Ms"),
      "at-most",
      1.5,
    ),
    check(
      "(f) user-felt p99, 3 shadows one at 2 s / no shadows",
      (r) => ratio(r, IDS.steadySlowShadow, IDS.steadyNoShadows, "p99Ms"),
      "at-most",
      1.2,
    ),
    check(
      "(f) user-felt p99, 1 shadow answering 20 % as a canary / no shadows",
      (r) => ratio(r, IDS.steadyCanary, IDS.steadyNoShadows, "p99Ms"),
      "at-most",
      1.2,
    ),
    // The honest ceiling has the gateway's assets set-up (see bench/passthrough/assets.wrangler.toml).
    check(
      "(b) throughput, pinned version / bare Worker with the same assets set-up",
      (r) => ratio(r, IDS.pinned, IDS.bareWorkerAssets, "rps"),
      "at-least",
      0.9,
    ),
    check(
      "(c) CPU per request, 4 KiB JSON to 3 shadows, comparison on / off",
      (r) => ratio(r, IDS.jsonCompare, IDS.jsonCompareOff, "cpuMsPerReq"),
      "at-most",
      1.25,
    ),
    check(
      "(c) throughput, comparison on / off",
      (r) => ratio(r, IDS.jsonCompare, IDS.jsonCompareOff, "rps"),
      "at-least",
      0.8,
    ),
    check(
      "(c) main's p50, comparison on / off",
      (r) => ratio(r, IDS.jsonCompare, IDS.jsonCompareOff, "p50Ms"),
      "at-most",
      1.1,
    ),
    // The p50 a user feels with comparison on: the closed loop's p50 above is about connections / throughput,
    // so it restates the throughput ratio; this one is measured open loop, as (f) is.
    check(
      "(c) user-felt p50, comparison on / off (open loop at the (f) rate)",
      (r) => ratio(r, IDS.steadyJsonCompare, IDS.steadyJsonCompareOff, "p50Ms"),
      "at-most",
      1.1,
    ),
    check(
      "(c) ledger writes / proxied requests, comparison on",
      (r) => r.find((x) => x.id === IDS.jsonCompare)?.ledgerWritesPerReq ?? null,
      "at-most",
      0.02,
    ),
    check(
      "(d) throughput, 3 shadows at 10 % / no shadows",
      (r) => ratio(r, IDS.tenPercent, IDS.noShadows, "rps"),
      "at-least",
      0.85,
    ),
    check(
      "(d) throughput, dead shadow marked unreachable / no shadows",
      (r) => ratio(r, IDS.deadMarked, IDS.noShadows, "rps"),
      "at-least",
      0.9,
    ),
    // Every request and main's answer kept for replay (redacted, batched to the capture log and R2 in waitUntil).
    check(
      "(g) throughput, no shadows capturing 100 % / no shadows",
      (r) => ratio(r, IDS.captureAll, IDS.noShadows, "rps"),
      "at-least",
      0.9,
    ),
    // The same one shadow, answering a fifth of the requests itself while main gets their copies.
    check(
      "(e) throughput, 1 shadow answering 20 % as a canary / 1 shadow, no canary",
      (r) => ratio(r, IDS.canary, IDS.oneShadow, "rps"),
      "at-least",
      0.9,
    ),
  ];
}

/** Further ratios that explain the targets; no bound. */
export function contextRatios(rounds: readonly ScenarioResult[][]): ({ label: string } & RoundValue)[] {
  const context = (label: string, value: Measure) => ({ label, ...acrossRounds(rounds, value) });
  return [
    context("throughput, pinned version / bare Worker without assets", (r) =>
      ratio(r, IDS.pinned, IDS.bareWorker, "rps"),
    ),
    context("throughput, bare Worker with assets / without (the assets router under wrangler dev)", (r) =>
      ratio(r, IDS.bareWorkerAssets, IDS.bareWorker, "rps"),
    ),
    context("throughput, gateway no shadows / bare Worker with the same assets set-up", (r) =>
      ratio(r, IDS.noShadows, IDS.bareWorkerAssets, "rps"),
    ),
    context("throughput, bare Worker sending 3 copies one to a 2 s shadow / bare Worker (the runtime's own (a))", (r) =>
      ratio(r, IDS.bareMirrorSlow, IDS.bareWorkerAssets, "rps"),
    ),
    context("p99, bare Worker sending 3 copies one to a 2 s shadow / bare Worker (the runtime's own (a))", (r) =>
      ratio(r, IDS.bareMirrorSlow, IDS.bareWorkerAssets, "p99Ms"),
    ),
    context("throughput, gateway 3 shadows one at 2 s, comparison on / off", (r) =>
      ratio(r, IDS.slowShadow, IDS.slowShadowCompareOff, "rps"),
    ),
    context("p99, gateway 3 shadows one at 2 s, comparison on / off", (r) =>
      ratio(r, IDS.slowShadow, IDS.slowShadowCompareOff, "p99Ms"),
    ),
    context("user-felt p50, 3 shadows one at 2 s / no shadows", (r) =>
      ratio(r, IDS.steadySlowShadow, IDS.steadyNoShadows, "p50Ms"),
    ),
    // Whether a slow shadow costs main more than a fast one does: the same 3 copies, one answered in 2 s.
    context("user-felt p99, 3 shadows one at 2 s / 3 fast shadows", (r) =>
      ratio(r, IDS.steadySlowShadow, IDS.steadyThreeShadows, "p99Ms"),
    ),
    context("user-felt p99, comparison on / off", (r) =>
      ratio(r, IDS.steadyJsonCompare, IDS.steadyJsonCompareOff, "p99Ms"),
    ),
    context("user-felt p50, 20 % canary / no shadows", (r) => ratio(r, IDS.steadyCanary, IDS.steadyNoShadows, "p50Ms")),
    context("steady load: p99, bare Worker sending 3 copies one to a 2 s shadow / bare Worker", (r) =>
      ratio(r, IDS.steadyBareMirrorSlow, IDS.steadyBare, "p99Ms"),
    ),
    context("throughput, gateway 3 shadows / no shadows", (r) => ratio(r, IDS.threeShadows, IDS.noShadows, "rps")),
    context("throughput, gateway 3 shadows one at 2 s / 3 fast shadows", (r) =>
      ratio(r, IDS.slowShadow, IDS.threeShadows, "rps"),
    ),
    context("p99, gateway 3 shadows one at 2 s / 3 fast shadows", (r) =>
      ratio(r, IDS.slowShadow, IDS.threeShadows, "p99Ms"),
    ),
    context("CPU per request, POST 256 KiB to 3 shadows / POST to none", (r) =>
      ratio(r, IDS.postThreeShadows, IDS.postNoShadows, "cpuMsPerReq"),
    ),
    context("throughput, gateway dead shadow / no shadows", (r) => ratio(r, IDS.deadShadow, IDS.noShadows, "rps")),
    context("CPU per request, gateway 3 shadows / no shadows", (r) =>
      ratio(r, IDS.threeShadows, IDS.noShadows, "cpuMsPerReq"),
    ),
    context("CPU per request, pinned version / bare Worker with the same assets set-up", (r) =>
      ratio(r, IDS.pinned, IDS.bareWorkerAssets, "cpuMsPerReq"),
    ),
    context("CPU per request, comparison with 5 % noise copies / comparison off", (r) =>
      ratio(r, IDS.jsonNoise, IDS.jsonCompareOff, "cpuMsPerReq"),
    ),
    context("throughput, comparison with 5 % noise copies / comparison off", (r) =>
      ratio(r, IDS.jsonNoise, IDS.jsonCompareOff, "rps"),
    ),
    context(
      "ledger writes / proxied requests, comparison with noise copies",
      (r) => r.find((x) => x.id === IDS.jsonNoise)?.ledgerWritesPerReq ?? null,
    ),
    context("CPU per request, 3 shadows at 10 % / no shadows", (r) =>
      ratio(r, IDS.tenPercent, IDS.noShadows, "cpuMsPerReq"),
    ),
    context("throughput, nginx 3 mirrors one at 2 s / nginx plain proxy", (r) =>
      ratio(r, IDS.nginxSlowMirror, IDS.nginxProxy, "rps"),
    ),
    context("p99, nginx 3 mirrors one at 2 s / nginx plain proxy", (r) =>
      ratio(r, IDS.nginxSlowMirror, IDS.nginxProxy, "p99Ms"),
    ),
  ];
}

const fixed = (value: number | null, digits: number) => (value === null ? "–" : value.toFixed(digits));
/** Two decimals, or two significant digits for a small share (0.0045 writes a request is not "0.00"). */
export const ratioText = (value: number | null): string =>
  value !== null && value > 0 && value < 0.1 ? value.toPrecision(2) : fixed(value, 2);

export function markdownTable(results: ScenarioResult[]): string {
  const header =
    "| scenario | target | shadows | slowest shadow ms | req/s | req/s range | p50 ms | p99 ms | p99 range | errors | CPU ms/req | peak RSS MB | copies delivered | other load |";
  const rule = "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|";
  const range = (pair: [number, number] | undefined, digits: number) =>
    pair === undefined ? "–" : `${pair[0].toFixed(digits)}–${pair[1].toFixed(digits)}`;
  const rows = results.map((r) =>
    [
      r.profiled ? `${r.name} (profiled)` : r.name,
      r.target,
      String(r.shadows),
      String(r.shadowDelayMs),
      fixed(r.rps, 0),
      range(r.spread?.rps, 0),
      fixed(r.p50Ms, 2),
      fixed(r.p99Ms, 2),
      range(r.spread?.p99Ms, 1),
      String(r.errors),
      fixed(r.cpuMsPerReq, 3),
      fixed(r.peakRssMb, 0),
      r.shadowCopiesDelivered === null ? "–" : `${(r.shadowCopiesDelivered * 100).toFixed(0)} %`,
      `${r.otherLoadPct.toFixed(0)} %`,
    ].join(" | "),
  );
  return [header, rule, ...rows.map((row) => `| ${row} |`)].join("\n");
}

export function targetLines(checks: TargetCheck[]): string {
  return checks
    .map((c) => {
      const verdict = c.met === null ? "not measured" : c.met ? "met" : "MISSED";
      const sign = c.direction === "at-least" ? "≥" : "≤";
      return `- ${c.label}: ${ratioText(c.value)}${rangeText(c)} (target ${sign} ${c.bound}) — ${verdict}`;
    })
    .join("\n");
}

export function contextLines(ratios: ({ label: string } & RoundValue)[]): string {
  return ratios.map((r) => `- ${r.label}: ${ratioText(r.value)}${rangeText(r)}`).join("\n");
}

/** " (0.91–1.04 over 3 rounds)": the spread behind a median; nothing for a single round. */
export function rangeText(value: RoundValue): string {
  if (value.rounds.length < 2 || value.min === null || value.max === null) return "";
  return ` (${ratioText(value.min)}–${ratioText(value.max)} over ${value.rounds.length} rounds)`;
}

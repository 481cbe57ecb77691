// Results of one run: the JSON record, the Markdown table and the target ratios.
// Pure functions, so the arithmetic is tested without running any load.

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
  scenarios: ScenarioResult[];
  targets: TargetCheck[];
}

export interface TargetCheck {
  label: string;
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
  oneShadow: "gateway-1-shadow",
  canary: "gateway-1-shadow-canary-20pct",
  threeShadows: "gateway-3-shadows",
  slowShadow: "gateway-3-shadows-1-slow",
  slowShadowCompareOff: "gateway-3-shadows-1-slow-compare-off",
  steadyNoShadows: "gateway-0-shadows-steady",
  steadySlowShadow: "gateway-3-shadows-1-slow-steady",
  deadShadow: "gateway-dead-shadow",
  postNoShadows: "gateway-post-256k-0-shadows",
  postThreeShadows: "gateway-post-256k-3-shadows",
  jsonCompare: "gateway-json-3-shadows-compare",
  jsonCompareOff: "gateway-json-3-shadows-compare-off",
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

function check(label: string, value: number | null, direction: TargetCheck["direction"], bound: number): TargetCheck {
  const met = value === null ? null : direction === "at-least" ? value >= bound : value <= bound;
  return { label, value, bound, direction, met };
}

/** The targets: (a) a slow shadow costs main little, (b) pinned routing costs little over a bare Worker. */
export function targetChecks(results: ScenarioResult[]): TargetCheck[] {
  return [
    check(
      "(a) throughput, 3 shadows one at 2 s / no shadows",
      ratio(results, IDS.slowShadow, IDS.noShadows, "rps"),
      "at-least",
      0.8,
    ),
    check(
      "(a) p99, 3 shadows one at 2 s / no shadows",
      ratio(results, IDS.slowShadow, IDS.noShadows, "p99Ms"),
      "at-most",
      1.5,
    ),
    // What the runtime itself charges for the copies: a bare Worker that only sends them (bench/passthrough).
    // Comparison is left out on both sides; what it adds is target (c).
    check(
      "(a) ceiling: throughput, gateway 3 shadows one at 2 s, comparison off / bare Worker sending the same copies",
      ratio(results, IDS.slowShadowCompareOff, IDS.bareMirrorSlow, "rps"),
      "at-least",
      0.9,
    ),
    check(
      "(a) ceiling: p99, gateway 3 shadows one at 2 s, comparison off / bare Worker sending the same copies",
      ratio(results, IDS.slowShadowCompareOff, IDS.bareMirrorSlow, "p99Ms"),
      "at-most",
      1.5,
    ),
    // The same promise at a rate the gateway carries (see bench/lib/paced.ts): what a client of main sees.
    check(
      "(a′) steady load: throughput, 3 shadows one at 2 s / no shadows",
      ratio(results, IDS.steadySlowShadow, IDS.steadyNoShadows, "rps"),
      "at-least",
      0.95,
    ),
    check(
      "(a′) steady load: p99, 3 shadows one at 2 s / no shadows",
      ratio(results, IDS.steadySlowShadow, IDS.steadyNoShadows, "p99Ms"),
      "at-most",
      1.5,
    ),
    // The honest ceiling has the gateway's assets set-up (see bench/passthrough/assets.wrangler.toml).
    check(
      "(b) throughput, pinned version / bare Worker with the same assets set-up",
      ratio(results, IDS.pinned, IDS.bareWorkerAssets, "rps"),
      "at-least",
      0.9,
    ),
    check(
      "(c) CPU per request, 4 KiB JSON to 3 shadows, comparison on / off",
      ratio(results, IDS.jsonCompare, IDS.jsonCompareOff, "cpuMsPerReq"),
      "at-most",
      1.25,
    ),
    check(
      "(c) throughput, comparison on / off",
      ratio(results, IDS.jsonCompare, IDS.jsonCompareOff, "rps"),
      "at-least",
      0.8,
    ),
    check(
      "(c) main's p50, comparison on / off",
      ratio(results, IDS.jsonCompare, IDS.jsonCompareOff, "p50Ms"),
      "at-most",
      1.1,
    ),
    check(
      "(c) ledger writes / proxied requests, comparison on",
      results.find((r) => r.id === IDS.jsonCompare)?.ledgerWritesPerReq ?? null,
      "at-most",
      0.02,
    ),
    check(
      "(d) throughput, 3 shadows at 10 % / no shadows",
      ratio(results, IDS.tenPercent, IDS.noShadows, "rps"),
      "at-least",
      0.85,
    ),
    check(
      "(d) throughput, dead shadow marked unreachable / no shadows",
      ratio(results, IDS.deadMarked, IDS.noShadows, "rps"),
      "at-least",
      0.9,
    ),
    // The same one shadow, answering a fifth of the requests itself while main gets their copies.
    check(
      "(e) throughput, 1 shadow answering 20 % as a canary / 1 shadow, no canary",
      ratio(results, IDS.canary, IDS.oneShadow, "rps"),
      "at-least",
      0.9,
    ),
  ];
}

/** Further ratios that explain the targets; no bound. */
export function contextRatios(results: ScenarioResult[]): { label: string; value: number | null }[] {
  return [
    {
      label: "throughput, pinned version / bare Worker without assets",
      value: ratio(results, IDS.pinned, IDS.bareWorker, "rps"),
    },
    {
      label: "throughput, bare Worker with assets / without (the assets router under wrangler dev)",
      value: ratio(results, IDS.bareWorkerAssets, IDS.bareWorker, "rps"),
    },
    {
      label: "throughput, gateway no shadows / bare Worker with the same assets set-up",
      value: ratio(results, IDS.noShadows, IDS.bareWorkerAssets, "rps"),
    },
    {
      label: "throughput, bare Worker sending 3 copies one to a 2 s shadow / bare Worker (the runtime's own (a))",
      value: ratio(results, IDS.bareMirrorSlow, IDS.bareWorkerAssets, "rps"),
    },
    {
      label: "p99, bare Worker sending 3 copies one to a 2 s shadow / bare Worker (the runtime's own (a))",
      value: ratio(results, IDS.bareMirrorSlow, IDS.bareWorkerAssets, "p99Ms"),
    },
    {
      label: "throughput, gateway 3 shadows one at 2 s, comparison on / off",
      value: ratio(results, IDS.slowShadow, IDS.slowShadowCompareOff, "rps"),
    },
    {
      label: "p99, gateway 3 shadows one at 2 s, comparison on / off",
      value: ratio(results, IDS.slowShadow, IDS.slowShadowCompareOff, "p99Ms"),
    },
    {
      label: "steady load: p99, bare Worker sending 3 copies one to a 2 s shadow / bare Worker",
      value: ratio(results, IDS.steadyBareMirrorSlow, IDS.steadyBare, "p99Ms"),
    },
    {
      label: "throughput, gateway 3 shadows / no shadows",
      value: ratio(results, IDS.threeShadows, IDS.noShadows, "rps"),
    },
    {
      label: "throughput, gateway 3 shadows one at 2 s / 3 fast shadows",
      value: ratio(results, IDS.slowShadow, IDS.threeShadows, "rps"),
    },
    {
      label: "p99, gateway 3 shadows one at 2 s / 3 fast shadows",
      value: ratio(results, IDS.slowShadow, IDS.threeShadows, "p99Ms"),
    },
    {
      label: "CPU per request, POST 256 KiB to 3 shadows / POST to none",
      value: ratio(results, IDS.postThreeShadows, IDS.postNoShadows, "cpuMsPerReq"),
    },
    {
      label: "throughput, gateway dead shadow / no shadows",
      value: ratio(results, IDS.deadShadow, IDS.noShadows, "rps"),
    },
    {
      label: "CPU per request, gateway 3 shadows / no shadows",
      value: ratio(results, IDS.threeShadows, IDS.noShadows, "cpuMsPerReq"),
    },
    {
      label: "CPU per request, pinned version / bare Worker with the same assets set-up",
      value: ratio(results, IDS.pinned, IDS.bareWorkerAssets, "cpuMsPerReq"),
    },
    {
      label: "CPU per request, comparison with 5 % noise copies / comparison off",
      value: ratio(results, IDS.jsonNoise, IDS.jsonCompareOff, "cpuMsPerReq"),
    },
    {
      label: "throughput, comparison with 5 % noise copies / comparison off",
      value: ratio(results, IDS.jsonNoise, IDS.jsonCompareOff, "rps"),
    },
    {
      label: "ledger writes / proxied requests, comparison with noise copies",
      value: results.find((r) => r.id === IDS.jsonNoise)?.ledgerWritesPerReq ?? null,
    },
    {
      label: "CPU per request, 3 shadows at 10 % / no shadows",
      value: ratio(results, IDS.tenPercent, IDS.noShadows, "cpuMsPerReq"),
    },
    {
      label: "throughput, nginx 3 mirrors one at 2 s / nginx plain proxy",
      value: ratio(results, IDS.nginxSlowMirror, IDS.nginxProxy, "rps"),
    },
    {
      label: "p99, nginx 3 mirrors one at 2 s / nginx plain proxy",
      value: ratio(results, IDS.nginxSlowMirror, IDS.nginxProxy, "p99Ms"),
    },
  ];
}

const fixed = (value: number | null, digits: number) => (value === null ? "–" : value.toFixed(digits));
/** Two decimals, or two significant digits for a small share (0.0045 writes a request is not "0.00"). */
export const ratioText = (value: number | null): string =>
  value !== null && value > 0 && value < 0.1 ? value.toPrecision(2) : fixed(value, 2);

export function markdownTable(results: ScenarioResult[]): string {
  const header =
    "| scenario | target | shadows | slowest shadow ms | req/s | p50 ms | p99 ms | errors | CPU ms/req | peak RSS MB | copies delivered | other load |";
  const rule = "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|";
  const rows = results.map((r) =>
    [
      r.profiled ? `${r.name} (profiled)` : r.name,
      r.target,
      String(r.shadows),
      String(r.shadowDelayMs),
      fixed(r.rps, 0),
      fixed(r.p50Ms, 2),
      fixed(r.p99Ms, 2),
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
      return `- ${c.label}: ${ratioText(c.value)} (target ${sign} ${c.bound}) — ${verdict}`;
    })
    .join("\n");
}

export function contextLines(ratios: { label: string; value: number | null }[]): string {
  return ratios.map((r) => `- ${r.label}: ${ratioText(r.value)}`).join("\n");
}

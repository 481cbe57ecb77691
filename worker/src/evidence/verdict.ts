import type { Difference, DiffKind } from "./compare.ts";
import { formatCount } from "./count.ts";
import type { FieldRule } from "./field-rules.ts";
import type { LatencyHistogram, LatencySummary } from "./histogram.ts";
import { isWithin } from "./paths.ts";

export interface Gate {
  minRequests: number;
  maxDiffRate: number;
  maxErrorRateIncrease: number;
  maxP99Ratio: number;
  minP99DeltaMs: number;
}

export interface EvidencePolicy {
  /** Paths that never count; `body.meta` also covers `body.meta.time` and `body.meta[]…`. */
  ignore: string[];
  /** Share of mirrored GET/HEAD requests (0–100) that also send main a copy of itself to learn noise. */
  noisePercent: number;
  /** Extra response headers compared besides content-type, lower-case. */
  headers?: string[];
  /** Sample fields stored redacted besides the credential-named ones: `query.<param>`, `body.<field path>`. */
  redact?: string[];
  /** How the values at some paths compare (numbers with tolerance, unordered arrays, presence, formats). */
  rules?: FieldRule[];
  gate: Gate;
}

export const defaultPolicy: EvidencePolicy = {
  ignore: [],
  noisePercent: 5,
  gate: { minRequests: 100, maxDiffRate: 0.01, maxErrorRateIncrease: 0.01, maxP99Ratio: 1.5, minP99DeltaMs: 25 },
};

/** What an operator set of a policy; everything else takes the defaults, so better defaults reach old policies. */
export type PolicyOverrides = Partial<Omit<EvidencePolicy, "gate">> & { gate?: Partial<Gate> };

/** A partial policy (as stored or sent) completed with the defaults. */
export function withDefaults(policy: PolicyOverrides = {}) {
  return {
    ...defaultPolicy,
    ...policy,
    gate: { ...defaultPolicy.gate, ...policy.gate },
  } satisfies EvidencePolicy;
}

/** Diffy's defaults: a field's difference rate must beat its noise rate by both margins. */
export const NOISE_RELATIVE_MARGIN = 0.2;
export const NOISE_ABSOLUTE_MARGIN = 0.0003;

export function exceedsNoise(rate: number, noiseRate: number): boolean {
  const excess = rate - noiseRate;
  if (!(excess > NOISE_ABSOLUTE_MARGIN)) return false;
  return noiseRate === 0 || excess / noiseRate > NOISE_RELATIVE_MARGIN;
}

export function isIgnored(path: string, ignore: readonly string[]): boolean {
  return ignore.some((prefix) => isWithin(path, prefix));
}

/*
 * Why signatures: a request is `different` when at least one of its
 * differences counts, and whether a field counts depends on the ignore list
 * and the noise rate at read time. Per-field counts alone cannot say how many
 * requests that is (two fields may differ on the same requests or on
 * different ones). So the ledger keeps, per (version, minute), how many
 * compared requests had each distinct set of differences — the signature —
 * and the report decides per signature. Ignoring a path later corrects past
 * windows exactly. A signature is the sorted `path kind` pairs joined by
 * newlines (paths never hold a raw newline: odd keys are JSON-quoted).
 */
export function signatureOf(differences: readonly Difference[]): string {
  return differences.map(fieldKey).sort().join("\n");
}

export function parseSignature(signature: string): Difference[] {
  if (signature === "") return [];
  return signature.split("\n").map(parseField);
}

/**
 * What the ledger holds for one shadow over a window. Every copy the traffic
 * controls selected is in exactly one of `compared`, `notCompared`, `errors`
 * (those were sent: `mirrored` is their sum) or `down` (never sent).
 */
export interface ShadowEvidence {
  version: string;
  mirrored: number;
  /** Both answers arrived and their bodies were compared, with the detail kept. */
  compared: number;
  /** The shadow answered, but its body was not compared (stream, over the cap, memory) or its detail was dropped. */
  notCompared: number;
  /** Copies that failed: could not connect, timed out, or answered 5xx. */
  errors: number;
  /** Copies never sent because the shadow was marked unreachable or paused. */
  down: number;
  /** Copies sampled out or filtered by method: not evidence either way. */
  skipped: number;
  /** Of `notCompared`, requests whose field detail was dropped under memory pressure. */
  unrecorded: number;
  /** Of `mirrored`: pairs the shadow answered as a canary (main's answer was the copy). */
  canary?: number;
  errorsMain: number;
  latencyMain: LatencyHistogram;
  latencyShadow: LatencyHistogram;
  /** Signature → compared requests with exactly that set of differences (no entry for none). */
  signatures: Map<string, number>;
  /** The same for `notCompared` requests whose status or headers differed. */
  partialSignatures: Map<string, number>;
}

export interface NoiseEvidence {
  sampled: number;
  /** `path kind` → main-against-main exchanges where that path differed in that way. */
  paths: Map<string, number>;
}

export interface FieldReport {
  path: string;
  kind: DiffKind;
  count: number;
  rate: number;
  noiseRate: number;
  ignored: boolean;
  counts: boolean;
}

export type Verdict = "pass" | "fail" | "inconclusive";

/** A rate with its 95 % Wilson score interval. */
export interface RateInterval {
  rate: number;
  low: number;
  high: number;
}

export interface ShadowReport {
  version: string;
  verdict: Verdict;
  reasons: string[];
  /** `mirrored` = same + different + error + notCompared; `down` were never sent; `skipped` are no evidence. */
  requests: {
    mirrored: number;
    compared: number;
    same: number;
    different: number;
    error: number;
    notCompared: number;
    down: number;
    skipped: number;
    unrecorded: number;
    /** Of `mirrored`: pairs the shadow answered as a canary; the rest were mirrored copies. */
    canary: number;
  };
  errors: { main: number; shadow: number };
  latencyMs: { main: LatencySummary; shadow: LatencySummary };
  confidence: {
    /** Counting differences among compared requests; null before any was compared. */
    diffRate: RateInterval | null;
    /** (error + down) / (mirrored + down). */
    errorRate: RateInterval;
    mainErrorRate: number;
    /** Requests measured on both sides (a timed-out copy at its timeout). */
    latencySamples: number;
    /** When inconclusive: about how many more requests at the current rates would decide, if that can be told. */
    moreRequests: number | null;
  };
  fields: FieldReport[];
}

export interface NoiseReport {
  sampled: number;
  fields: { path: string; kind: DiffKind; rate: number }[];
}

/** Which main the shadows were compared with, and since when (ISO 8601; null before any evidence against it). */
export interface BaselineReport {
  main: string;
  since: string | null;
  /** An older baseline only: when the next main took over. */
  until?: string | null;
}

/** Main's own traffic: every request it served in the window, against this baseline, shadows or not. */
export interface MainTrafficReport {
  requests: number;
  status: { "2xx": number; "3xx": number; "4xx": number; "5xx": number };
  latencyMs: LatencySummary;
}

export interface EvidenceReport {
  name: string;
  main: string;
  window: { from: string; to: string };
  /** The report judges the shadows against this main only, from `since` (or the window's start if later). */
  baseline: BaselineReport;
  mainTraffic: MainTrafficReport;
  shadows: ShadowReport[];
  noise: NoiseReport;
  /** Only when asked for: the window step by step, for charts. */
  series?: ReportSeries;
}

/**
 * The report's window step by step, oldest first: every array holds one value
 * per step from `from`. A step without evidence is 0 (counts) or null (p99).
 */
export interface ReportSeries {
  /** Start of the first step, ISO 8601. */
  from: string;
  /** 60 for windows up to 4 h; a longer window takes a wider step (a multiple of 60), so at most ~240 steps. */
  stepSeconds: number;
  /**
   * Main's own traffic step by step, whichever version was main: every request it served,
   * shadows or not, so the line goes on across promotions.
   */
  main: {
    requests: number[];
    status: { "2xx": number[]; "3xx": number[]; "4xx": number[]; "5xx": number[] };
    p99Ms: (number | null)[];
  };
  /** Changes of main inside the window (the baseline changed), oldest first. */
  promotions: { at: string; main: string }[];
  /** Main first, then the shadows. */
  versions: {
    version: string;
    /** A shadow's mirrored requests; main's are those of its widest shadow in each step (sampling is nested). */
    requests: number[];
    /** Shadows only: compared requests. */
    compared?: number[];
    /** Shadows only: requests with a counting difference, by the same ignore and noise rules as the report. */
    different?: number[];
    /** Main's comes from the main histograms of every shadow's rows. */
    p99Ms: (number | null)[];
  }[];
}

export function noiseReport(noise: NoiseEvidence): NoiseReport {
  const fields = [...noise.paths]
    .map(([key, count]) => {
      const { path, kind } = parseField(key);
      return { path, kind, rate: fraction(count, noise.sampled) };
    })
    .sort((a, b) => b.rate - a.rate || compareText(a.path, b.path) || compareText(a.kind, b.kind));
  return { sampled: noise.sampled, fields };
}

/** `path kind`, the key of a field in signatures and noise. */
export const fieldKey = (d: Difference) => `${d.path} ${d.kind}`;

function parseField(key: string): Difference {
  const space = key.lastIndexOf(" ");
  return { path: key.slice(0, space), kind: key.slice(space + 1) as DiffKind };
}

/**
 * Whether a field counts against the shadow: not ignored, and beyond main's
 * own noise of the same kind at that path. A comparison cut short (`many`)
 * is never excused by noise.
 */
function fieldCounts(field: FieldReport): boolean {
  if (field.ignored) return false;
  return field.kind === "many" || exceedsNoise(field.rate, field.noiseRate);
}

export function shadowReport(evidence: ShadowEvidence, noise: NoiseEvidence, policy: EvidencePolicy): ShadowReport {
  const withDetail = evidence.compared + evidence.notCompared - evidence.unrecorded;
  const byField = new Map<string, FieldReport>();
  const parse = (signatures: Map<string, number>) => {
    const parsed: [Difference[], number][] = [];
    for (const [signature, count] of signatures) {
      const differences = parseSignature(signature);
      parsed.push([differences, count]);
      for (const difference of differences) {
        const key = fieldKey(difference);
        const field = byField.get(key);
        if (field) field.count += count;
        else byField.set(key, { ...difference, count, rate: 0, noiseRate: 0, ignored: false, counts: false });
      }
    }
    return parsed;
  };
  const full = parse(evidence.signatures);
  const partial = parse(evidence.partialSignatures);
  for (const [key, field] of byField) {
    field.rate = fraction(field.count, withDetail);
    field.noiseRate = fraction(noise.paths.get(key) ?? 0, noise.sampled);
    field.ignored = isIgnored(field.path, policy.ignore);
    field.counts = fieldCounts(field);
  }
  const differing = (parsed: [Difference[], number][]) =>
    parsed.reduce((sum, [differences, count]) => {
      return differences.some((d) => byField.get(fieldKey(d))?.counts) ? sum + count : sum;
    }, 0);
  const differentFull = differing(full);
  const differentPartial = differing(partial);
  const fields = [...byField.values()].sort(
    (a, b) => b.count - a.count || compareText(a.path, b.path) || compareText(a.kind, b.kind),
  );
  const latencyMs = { main: evidence.latencyMain.summary(), shadow: evidence.latencyShadow.summary() };
  const same = evidence.compared - differentFull;
  const different = differentFull + differentPartial;
  const requests = {
    mirrored: evidence.mirrored,
    // A request whose status or headers differ in a way that counts is judged even when its body was not compared.
    compared: same + different,
    same,
    different,
    error: evidence.errors,
    notCompared: evidence.notCompared - differentPartial,
    down: evidence.down,
    skipped: evidence.skipped,
    unrecorded: evidence.unrecorded,
    canary: evidence.canary ?? 0,
  };
  const errors = { main: evidence.errorsMain, shadow: evidence.errors };
  const latencySamples = Math.min(evidence.latencyMain.count, evidence.latencyShadow.count);
  const { verdict, reasons, confidence } = judge({ requests, errors, latencyMs, latencySamples, fields }, policy.gate);
  return { version: evidence.version, verdict, reasons, requests, errors, latencyMs, confidence, fields };
}

/** The z of a two-sided 95 % interval. */
const Z = 1.959964;

/**
 * The Wilson score interval of `k` successes in `n` trials: unlike k/n ± a
 * normal margin, it stays inside 0–1 and is honest about small counts
 * (0 in 20 is not "0 %", it is "under about 16 %").
 */
export function wilson(k: number, n: number): RateInterval {
  if (n <= 0) return { rate: 0, low: 0, high: 1 };
  const p = k / n;
  const z2 = Z * Z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const margin = (Z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  // Rounded to a millionth: what it is read for, and free of float dust such as 4e-19 for 0.
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return { rate: p, low: round(Math.max(0, centre - margin)), high: round(Math.min(1, centre + margin)) };
}

/**
 * How many trials in all, at the rate k/n, before the interval lies wholly on
 * one side of `limit`: above it (`fail`) or at or under it (`pass`). Undefined
 * when the rate sits on the limit or nothing was measured.
 */
export function trialsToDecide(
  k: number,
  n: number,
  limit: number,
): { trials: number; way: "pass" | "fail" } | undefined {
  if (n <= 0) return undefined;
  const p = k / n;
  if (p === limit) return undefined;
  const way = p > limit ? "fail" : "pass";
  const decided = (m: number) => (way === "fail" ? wilson(p * m, m).low > limit : wilson(p * m, m).high <= limit);
  if (decided(n)) return { trials: n, way };
  let low = n;
  let high = Math.max(1, n * 2);
  while (!decided(high)) {
    low = high;
    high *= 2;
    if (high > 1e9) return undefined;
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (decided(middle)) high = middle;
    else low = middle;
  }
  return { trials: high, way };
}

/** About `n`, to two significant figures: "about 140 more requests", not "about 141". */
export function roughly(n: number): number {
  if (n < 100) return Math.max(1, Math.round(n));
  const unit = 10 ** (Math.floor(Math.log10(n)) - 1);
  return Math.round(n / unit) * unit;
}

type JudgeInput = Pick<ShadowReport, "requests" | "errors" | "latencyMs" | "fields"> & { latencySamples: number };

/**
 * The verdict rules. Nothing is decided on fewer than `minRequests` copies
 * with an outcome. `fail` when a rule's evidence clearly breaks a limit (the
 * interval's low end is above it, or the p99 rule fails on enough samples);
 * `pass` only when enough bodies were compared and every high end is within
 * the limits; otherwise `inconclusive`, saying what is missing and about how
 * many more requests at the current rates would decide it.
 */
export function judge(
  report: JudgeInput,
  gate: Gate,
): { verdict: Verdict; reasons: string[]; confidence: ShadowReport["confidence"] } {
  const { requests, errors, latencyMs, latencySamples } = report;
  const outcomes = requests.mirrored + requests.down;
  const diffRate = requests.compared > 0 ? wilson(requests.different, requests.compared) : null;
  const errorRate = wilson(requests.error + requests.down, outcomes);
  const mainErrorRate = fraction(errors.main, requests.mirrored);
  const errorLimit = mainErrorRate + gate.maxErrorRateIncrease;
  const confidence = { diffRate, errorRate, mainErrorRate, latencySamples, moreRequests: null as number | null };
  // Share of copies with an outcome whose bodies get compared: converts "compared requests" into requests.
  const comparedShare = fraction(requests.compared, outcomes);

  const estimates: { requests: number; way: "pass" | "fail" }[] = [];
  const diffEstimate = () => {
    const decide = trialsToDecide(requests.different, requests.compared, gate.maxDiffRate);
    if (decide && comparedShare > 0) estimates.push({ requests: decide.trials / comparedShare, way: decide.way });
  };
  const errorEstimate = () => {
    const decide = trialsToDecide(requests.error + requests.down, outcomes, errorLimit);
    if (decide) estimates.push({ requests: decide.trials, way: decide.way });
  };
  const inconclusive = (reasons: string[]) => {
    const more = moreRequests(estimates, outcomes);
    confidence.moreRequests = more?.requests ?? null;
    const uncomparable = comparedShare === 0 && requests.notCompared > 0;
    const tail = more
      ? `about ${formatCount(more.requests)} more requests at these rates would ${more.way} it`
      : uncomparable
        ? "it cannot pass until bodies are compared: raise COMPARE_MAX_BODY_BYTES, or send requests with smaller answers"
        : "more requests are needed to decide";
    return { verdict: "inconclusive" as const, reasons: [...reasons, tail], confidence };
  };

  const diffLine = `${formatCount(requests.different)} of ${formatCount(requests.compared)} compared requests differ`;
  const errorLine =
    `shadow error rate ${percent(errorRate.rate)} (${formatCount(requests.error)} errors, ` +
    `${formatCount(requests.down)} down, of ${formatCount(outcomes)}) against main's ${percent(mainErrorRate)}`;
  if (outcomes < gate.minRequests) {
    estimates.push({ requests: gate.minRequests, way: "pass" });
    diffEstimate();
    errorEstimate();
    // Too few to decide either way: a failure-bound rule still needs minRequests first.
    for (const estimate of estimates) estimate.requests = Math.max(estimate.requests, gate.minRequests);
    return inconclusive([
      `${formatCount(outcomes)} copies with an outcome, fewer than the ${formatCount(gate.minRequests)} the gate needs`,
    ]);
  }

  const top = report.fields
    .filter((f) => f.counts)
    .slice(0, 3)
    .map((f) => `${f.path} (${f.kind}, ${percent(f.rate)})`);
  const failures: string[] = [];
  if (diffRate && diffRate.low > gate.maxDiffRate) {
    failures.push(
      `${diffLine} (${percent(diffRate.rate)}, at least ${percent(diffRate.low)} at 95 % confidence), ` +
        `more than the ${percent(gate.maxDiffRate)} allowed; top fields: ${top.join(", ")}`,
    );
  }
  if (errorRate.low > errorLimit) {
    failures.push(
      `${errorLine}: at least ${percent(errorRate.low)} at 95 % confidence, more than ` +
        `${percent(gate.maxErrorRateIncrease)} above it`,
    );
  }
  const mainP99 = latencyMs.main.p99;
  const shadowP99 = latencyMs.shadow.p99;
  const latencyLine = `shadow p99 ${shadowP99} ms against main's ${mainP99} ms on the same requests`;
  const slow = shadowP99 > gate.maxP99Ratio * mainP99 && shadowP99 - mainP99 > gate.minP99DeltaMs;
  if (slow && latencySamples >= gate.minRequests) {
    failures.push(`${latencyLine}, more than ${gate.maxP99Ratio}× and ${gate.minP99DeltaMs} ms slower`);
  }
  if (failures.length > 0) return { verdict: "fail", reasons: failures, confidence };

  const missing: string[] = [];
  if (requests.compared < gate.minRequests) {
    const why =
      requests.notCompared > 0
        ? `; ${formatCount(requests.notCompared)} answered but could not be compared (bodies over the cap, streamed, or past the memory bound)`
        : "";
    missing.push(
      `${formatCount(requests.compared)} compared requests, fewer than the ${formatCount(gate.minRequests)} the gate needs${why}`,
    );
    if (comparedShare > 0) estimates.push({ requests: gate.minRequests / comparedShare, way: "pass" });
  }
  if (diffRate === null || diffRate.high > gate.maxDiffRate) {
    if (diffRate !== null) {
      missing.push(
        `${diffLine}: up to ${percent(diffRate.high)} at 95 % confidence, not yet clearly within ${percent(gate.maxDiffRate)}`,
      );
    }
    diffEstimate();
  }
  if (errorRate.high > errorLimit) {
    missing.push(
      `${errorLine}: up to ${percent(errorRate.high)} at 95 % confidence, not yet clearly within ${percent(gate.maxErrorRateIncrease)} of it`,
    );
    errorEstimate();
  }
  if (slow) missing.push(`${latencyLine}, but on only ${latencySamples} requests measured on both sides`);
  if (requests.unrecorded * 100 >= requests.mirrored && requests.unrecorded > 0) {
    missing.push(
      `${formatCount(requests.unrecorded)} of ${formatCount(requests.mirrored)} requests lost their field detail under memory pressure`,
    );
  }
  if (missing.length > 0) return inconclusive(missing);

  const reasons = [
    `${diffLine} (${percent(diffRate?.rate ?? 0)}, at most ${percent(diffRate?.high ?? 0)} at 95 % confidence), within ${percent(gate.maxDiffRate)}`,
    `${errorLine}, at most ${percent(errorRate.high)} at 95 % confidence, within ${percent(gate.maxErrorRateIncrease)} of it`,
    `${latencyLine}, within ${gate.maxP99Ratio}× or ${gate.minP99DeltaMs} ms`,
  ];
  return { verdict: "pass", reasons, confidence };
}

/**
 * The requests still to come: the soonest any rule heading for a failure
 * decides, or else the latest of the rules heading for a pass (all of them
 * must pass).
 */
function moreRequests(
  estimates: readonly { requests: number; way: "pass" | "fail" }[],
  outcomes: number,
): { requests: number; way: "pass" | "fail" } | undefined {
  const failing = estimates.filter((e) => e.way === "fail");
  const pool = failing.length > 0 ? failing : estimates;
  if (pool.length === 0) return undefined;
  const pick = failing.length > 0 ? Math.min : Math.max;
  const total = pick(...pool.map((e) => e.requests));
  const more = Math.ceil(total) - outcomes;
  if (!Number.isFinite(more) || more <= 0) return undefined;
  return { requests: roughly(more), way: failing.length > 0 ? "fail" : "pass" };
}

function fraction(count: number, total: number): number {
  return total > 0 ? count / total : 0;
}

function percent(rate: number): string {
  return `${Number((rate * 100).toFixed(2))}%`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

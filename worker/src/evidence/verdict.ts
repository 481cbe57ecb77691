import type { Difference, DiffKind } from "./compare.ts";
import { formatCount } from "./count.ts";
import type { LatencyHistogram, LatencySummary } from "./histogram.ts";

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
  for (const prefix of ignore) {
    if (path === prefix) return true;
    if (path.startsWith(prefix)) {
      const next = path[prefix.length];
      if (next === "." || next === "[") return true;
    }
  }
  return false;
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
  return differences
    .map((d) => `${d.path} ${d.kind}`)
    .sort()
    .join("\n");
}

export function parseSignature(signature: string): Difference[] {
  if (signature === "") return [];
  return signature.split("\n").map((entry) => {
    const space = entry.lastIndexOf(" ");
    return { path: entry.slice(0, space), kind: entry.slice(space + 1) as DiffKind };
  });
}

/** What the ledger holds for one shadow over a window. */
export interface ShadowEvidence {
  version: string;
  mirrored: number;
  /** Both answers arrived and were compared (at least status and headers). */
  compared: number;
  /** Of `compared`, those whose bodies were not compared (stream or over the cap). */
  notCompared: number;
  /** Mirrored but not compared at all (shadow failed, memory bound, comparison off). */
  skipped: number;
  errorsMain: number;
  errorsShadow: number;
  latencyMain: LatencyHistogram;
  latencyShadow: LatencyHistogram;
  /** Signature → compared requests with exactly that set of differences (no entry for none). */
  signatures: Map<string, number>;
}

export interface NoiseEvidence {
  sampled: number;
  /** Path → main-against-main exchanges where that path differed. */
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

export interface ShadowReport {
  version: string;
  verdict: Verdict;
  reasons: string[];
  requests: {
    mirrored: number;
    compared: number;
    same: number;
    different: number;
    notCompared: number;
    skipped: number;
  };
  errors: { main: number; shadow: number };
  latencyMs: { main: LatencySummary; shadow: LatencySummary };
  fields: FieldReport[];
}

export interface NoiseReport {
  sampled: number;
  fields: { path: string; rate: number }[];
}

export interface EvidenceReport {
  name: string;
  main: string;
  window: { from: string; to: string };
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
    .map(([path, count]) => ({ path, rate: fraction(count, noise.sampled) }))
    .sort((a, b) => b.rate - a.rate || compareText(a.path, b.path));
  return { sampled: noise.sampled, fields };
}

export function shadowReport(evidence: ShadowEvidence, noise: NoiseEvidence, policy: EvidencePolicy): ShadowReport {
  const { compared } = evidence;
  const byField = new Map<string, FieldReport>();
  const parsed: [Difference[], number][] = [];
  for (const [signature, count] of evidence.signatures) {
    const differences = parseSignature(signature);
    parsed.push([differences, count]);
    for (const { path, kind } of differences) {
      const key = `${path} ${kind}`;
      const field = byField.get(key);
      if (field) field.count += count;
      else byField.set(key, { path, kind, count, rate: 0, noiseRate: 0, ignored: false, counts: false });
    }
  }
  for (const field of byField.values()) {
    field.rate = fraction(field.count, compared);
    field.noiseRate = fraction(noise.paths.get(field.path) ?? 0, noise.sampled);
    field.ignored = isIgnored(field.path, policy.ignore);
    field.counts = !field.ignored && exceedsNoise(field.rate, field.noiseRate);
  }
  let different = 0;
  for (const [differences, count] of parsed) {
    if (differences.some((d) => byField.get(`${d.path} ${d.kind}`)?.counts)) different += count;
  }
  const fields = [...byField.values()].sort(
    (a, b) => b.count - a.count || compareText(a.path, b.path) || compareText(a.kind, b.kind),
  );
  const latencyMs = { main: evidence.latencyMain.summary(), shadow: evidence.latencyShadow.summary() };
  const requests = {
    mirrored: evidence.mirrored,
    compared,
    same: compared - different,
    different,
    notCompared: evidence.notCompared,
    skipped: evidence.skipped,
  };
  const errors = { main: evidence.errorsMain, shadow: evidence.errorsShadow };
  const { verdict, reasons } = judge({ requests, errors, latencyMs, fields }, policy.gate);
  return { version: evidence.version, verdict, reasons, requests, errors, latencyMs, fields };
}

/** The verdict rules, in the order they decide. */
export function judge(
  report: Pick<ShadowReport, "requests" | "errors" | "latencyMs" | "fields">,
  gate: Gate,
): { verdict: Verdict; reasons: string[] } {
  const { requests, errors, latencyMs } = report;
  if (requests.compared < gate.minRequests) {
    return {
      verdict: "inconclusive",
      reasons: [
        `${formatCount(requests.compared)} compared requests, fewer than the ${formatCount(gate.minRequests)} the gate needs`,
      ],
    };
  }
  const reasons: string[] = [];
  const diffRate = fraction(requests.different, requests.compared);
  const top = report.fields
    .filter((f) => f.counts)
    .slice(0, 3)
    .map((f) => `${f.path} (${f.kind}, ${percent(f.rate)})`);
  const diffLine = `${percent(diffRate)} of compared requests differ (${formatCount(requests.different)} of ${formatCount(requests.compared)})`;
  const failures: string[] = [];
  if (diffRate > gate.maxDiffRate) {
    failures.push(`${diffLine}, more than the ${percent(gate.maxDiffRate)} allowed; top fields: ${top.join(", ")}`);
  } else {
    reasons.push(`${diffLine}, within ${percent(gate.maxDiffRate)}`);
  }

  const mainErrorRate = fraction(errors.main, requests.mirrored);
  const shadowErrorRate = fraction(errors.shadow, requests.mirrored);
  const errorLine = `shadow error rate ${percent(shadowErrorRate)} against main's ${percent(mainErrorRate)}`;
  if (shadowErrorRate - mainErrorRate > gate.maxErrorRateIncrease) {
    failures.push(`${errorLine}, more than ${percent(gate.maxErrorRateIncrease)} above it`);
  } else {
    reasons.push(`${errorLine}, within ${percent(gate.maxErrorRateIncrease)}`);
  }

  const mainP99 = latencyMs.main.p99;
  const shadowP99 = latencyMs.shadow.p99;
  const latencyLine = `shadow p99 ${shadowP99} ms against main's ${mainP99} ms on the same requests`;
  if (shadowP99 > gate.maxP99Ratio * mainP99 && shadowP99 - mainP99 > gate.minP99DeltaMs) {
    failures.push(`${latencyLine}, more than ${gate.maxP99Ratio}× and ${gate.minP99DeltaMs} ms slower`);
  } else {
    reasons.push(`${latencyLine}, within ${gate.maxP99Ratio}× or ${gate.minP99DeltaMs} ms`);
  }

  if (failures.length > 0) return { verdict: "fail", reasons: failures };
  return { verdict: "pass", reasons };
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

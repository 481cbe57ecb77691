import type { Difference, DiffKind } from "../compare.ts";
import { fraction, type JudgeInput, judge, verdictOf } from "./judge.ts";
import { type EvidencePolicy, exceedsNoise, isIgnored } from "./policy.ts";
import type { FieldReport, NoiseEvidence, NoiseReport, ShadowEvidence, ShadowReport, Verdict } from "./types.ts";

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
  const input = judgeInputOf(evidence, noise, policy);
  const latencyMs = { main: evidence.latencyMain.summary(), shadow: evidence.latencyShadow.summary() };
  const { verdict, reasons, confidence } = judge(input, policy.gate);
  const { requests, errors, fields } = input;
  return { version: evidence.version, verdict, reasons, requests, errors, latencyMs, confidence, fields };
}

/** The verdict alone, by the same counts and rules as `shadowReport`, without bands and words: what the judge bench reads. */
export function shadowVerdict(evidence: ShadowEvidence, noise: NoiseEvidence, policy: EvidencePolicy): Verdict {
  return verdictOf(judgeInputOf(evidence, noise, policy), policy.gate);
}

/** A shadow's outcomes and fields after the noise and ignore rules, as the verdict reads them. */
function judgeInputOf(
  evidence: ShadowEvidence,
  noise: NoiseEvidence,
  policy: EvidencePolicy,
): JudgeInput & { fields: FieldReport[] } {
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
  const same = evidence.compared - differentFull;
  const different = differentFull + differentPartial;
  const requests = {
    mirrored: evidence.mirrored,
    // A request whose status or headers differ in a way that counts is judged even when its body was not compared.
    compared: same + different,
    same,
    different,
    error: evidence.errorsShadow,
    notCompared: evidence.notCompared - differentPartial,
    down: evidence.down,
    skipped: evidence.skipped,
    unrecorded: evidence.unrecorded,
    canary: evidence.canary,
  };
  const errors = { main: evidence.errorsMain, shadow: evidence.errorsShadow };
  return {
    requests,
    errors,
    pairs: { shadowOnly: evidence.errorsShadowOnly, mainOnly: evidence.errorsMainOnly },
    latencyMain: evidence.latencyMain,
    latencyShadow: evidence.latencyShadow,
    fields,
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

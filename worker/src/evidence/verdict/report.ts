import { compareText, type FieldJudgement, judgeFields } from "./fields.ts";
import { fraction, type JudgeInput, judge, verdictOf } from "./judge.ts";
import type { EvidencePolicy } from "./policy.ts";
import { parseNoiseKey } from "./signatures.ts";
import type { FieldReport, NoiseEvidence, NoiseReport, ShadowEvidence, ShadowReport, Verdict } from "./types.ts";

export { fieldKey, noiseKey, parseNoiseKey, parseSignature, signatureOf, signatureRoute } from "./signatures.ts";

/** Main's noise per route and field, each rate over that route's twin copies. */
export function noiseReport(noise: NoiseEvidence): NoiseReport {
  const fields = [...noise.paths]
    .map(([key, count]) => {
      const { route, path, kind } = parseNoiseKey(key);
      return { route, path, kind, rate: fraction(count, noise.routes.get(route) ?? 0) };
    })
    .sort(
      (a, b) =>
        b.rate - a.rate || compareText(a.route, b.route) || compareText(a.path, b.path) || compareText(a.kind, b.kind),
    );
  const routes = [...noise.routes]
    .map(([route, sampled]) => ({ route, sampled }))
    .sort((a, b) => b.sampled - a.sampled || compareText(a.route, b.route));
  return { sampled: noise.sampled, routes, fields };
}

export function shadowReport(evidence: ShadowEvidence, noise: NoiseEvidence, policy: EvidencePolicy): ShadowReport {
  return judgeShadow(evidence, noise, policy).report;
}

/** The report and which of the shadow's signatures count (the series counts step by step with it). */
export function judgeShadow(
  evidence: ShadowEvidence,
  noise: NoiseEvidence,
  policy: EvidencePolicy,
): { report: ShadowReport; counts: FieldJudgement["counts"] } {
  const { input, counts } = judgeInputOf(evidence, noise, policy);
  const latencyMs = { main: evidence.latencyMain.summary(), shadow: evidence.latencyShadow.summary() };
  const { verdict, reasons, confidence } = judge(input, policy.gate);
  const { requests, errors, fields } = input;
  return {
    report: { version: evidence.version, verdict, reasons, requests, errors, latencyMs, confidence, fields },
    counts,
  };
}

/** The verdict alone, by the same counts and rules as `shadowReport`, without bands and words: what the judge bench reads. */
export function shadowVerdict(evidence: ShadowEvidence, noise: NoiseEvidence, policy: EvidencePolicy): Verdict {
  return verdictOf(judgeInputOf(evidence, noise, policy).input, policy.gate);
}

/** A shadow's outcomes and fields after the noise and ignore rules, as the verdict reads them. */
function judgeInputOf(
  evidence: ShadowEvidence,
  noise: NoiseEvidence,
  policy: EvidencePolicy,
): { input: JudgeInput & { fields: FieldReport[] }; counts: FieldJudgement["counts"] } {
  const { fields, counts } = judgeFields(evidence, noise, policy);
  const differing = (signatures: Map<string, number>) => {
    let sum = 0;
    for (const [signature, count] of signatures) if (counts(signature)) sum += count;
    return sum;
  };
  const differentFull = differing(evidence.signatures);
  const differentPartial = differing(evidence.partialSignatures);
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
  const input = {
    requests,
    errors,
    pairs: { shadowOnly: evidence.errorsShadowOnly, mainOnly: evidence.errorsMainOnly },
    latencyMain: evidence.latencyMain,
    latencyShadow: evidence.latencyShadow,
    fields,
  };
  return { input, counts };
}

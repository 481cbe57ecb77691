import type { Difference } from "../compare.ts";
import { noiseExcuses } from "./noise.ts";
import { type EvidencePolicy, isIgnored } from "./policy.ts";
import { fieldKey, noiseKey, parseSignature, signatureRoute } from "./signatures.ts";
import type { FieldReport, NoiseEvidence, ShadowEvidence } from "./types.ts";

/** A shadow's fields after the ignore and noise rules, and which signatures hold a difference that counts. */
export interface FieldJudgement {
  fields: FieldReport[];
  counts: (signature: string) => boolean;
}

/** One field on one route: how often the shadow showed it there. */
interface RouteField {
  route: string;
  difference: Difference;
  count: number;
}

/**
 * Each field is judged per route: it counts on a route unless it is
 * ignored, or main's noise on that route excuses it (see noise.ts); a
 * comparison cut short (`many`) is never excused. A field counts when it
 * counts on any route; its `noiseRate` is main's own rate over the routes
 * where the shadow showed it.
 */
export function judgeFields(evidence: ShadowEvidence, noise: NoiseEvidence, policy: EvidencePolicy): FieldJudgement {
  const withDetail = evidence.compared + evidence.notCompared - evidence.unrecorded;
  const perRoute = new Map<string, RouteField>();
  for (const signatures of [evidence.signatures, evidence.partialSignatures]) {
    for (const [signature, count] of signatures) {
      if (!(count > 0)) continue;
      const route = signatureRoute(signature);
      for (const difference of parseSignature(signature)) {
        const key = noiseKey(route, difference);
        const entry = perRoute.get(key);
        if (entry) entry.count += count;
        else perRoute.set(key, { route, difference, count });
      }
    }
  }
  const counting = new Set<string>();
  const byField = new Map<string, FieldReport & { twins: number; noisy: number }>();
  for (const [key, { route, difference, count }] of perRoute) {
    const ignored = isIgnored(difference.path, policy.ignore);
    const twins = noise.routes.get(route) ?? 0;
    const noisy = noise.paths.get(key) ?? 0;
    const total = evidence.routes.get(route) ?? withDetail;
    const excused =
      difference.kind !== "many" &&
      noiseExcuses(route, { count, total }, { count: noisy, total: twins }, policy.gate.alpha);
    if (!ignored && !excused) counting.add(key);
    const field = byField.get(fieldKey(difference));
    if (!field) {
      const counts = !ignored && !excused;
      byField.set(fieldKey(difference), { ...difference, count, rate: 0, noiseRate: 0, ignored, counts, twins, noisy });
      continue;
    }
    field.count += count;
    field.twins += twins;
    field.noisy += noisy;
    field.counts ||= !ignored && !excused;
  }
  const fields = [...byField.values()]
    .map(({ twins, noisy, ...field }) => ({
      ...field,
      rate: fraction(field.count, withDetail),
      noiseRate: fraction(noisy, twins),
    }))
    .sort((a, b) => b.count - a.count || compareText(a.path, b.path) || compareText(a.kind, b.kind));
  const counts = (signature: string) => {
    const route = signatureRoute(signature);
    return parseSignature(signature).some((d) => counting.has(noiseKey(route, d)));
  };
  return { fields, counts };
}

const fraction = (count: number, total: number) => (total > 0 ? count / total : 0);

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

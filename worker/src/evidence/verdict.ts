/*
 * The verdict: what the ledger's evidence says about a shadow. The rules
 * live in verdict/ (one module per concern); this module is their front.
 */
export { type JudgeInput, type Judgement, judge, roughly, verdictOf } from "./verdict/judge.ts";
export {
  defaultPolicy,
  type EvidencePolicy,
  exceedsNoise,
  type Gate,
  isIgnored,
  NOISE_ABSOLUTE_MARGIN,
  NOISE_RELATIVE_MARGIN,
  type PolicyOverrides,
  withDefaults,
} from "./verdict/policy.ts";
export { fieldKey, noiseReport, parseSignature, shadowReport, shadowVerdict, signatureOf } from "./verdict/report.ts";
export type * from "./verdict/types.ts";

/*
 * The verdict: what the ledger's evidence says about a shadow. The rules
 * live in verdict/ (one module per concern); this module is their front.
 */
export { type JudgeInput, type Judgement, judge, roughly, verdictOf } from "./verdict/judge.ts";
export { MAX_ROUTES_PER_NAME, NOISE_MIN_TWINS, OTHER_ROUTES } from "./verdict/noise.ts";
export {
  defaultPolicy,
  type EvidencePolicy,
  type Gate,
  isIgnored,
  type PolicyOverrides,
  withDefaults,
} from "./verdict/policy.ts";
export {
  fieldKey,
  judgeShadow,
  noiseKey,
  noiseReport,
  parseNoiseKey,
  parseSignature,
  shadowReport,
  shadowVerdict,
  signatureOf,
  signatureRoute,
} from "./verdict/report.ts";
export type * from "./verdict/types.ts";

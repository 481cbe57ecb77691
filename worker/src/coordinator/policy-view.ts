import type { NamePolicy } from "../db/queries.ts";
import { shownNotifyTarget } from "../notify/target.ts";
import type { PolicyResult } from "./results.ts";

/** A policy as the admin API shows it: every field present, the notification URL by scheme and host only. */
export const toPolicyResult = (policy: NamePolicy): PolicyResult => ({
  ignore: policy.ignore,
  headers: policy.headers ?? [],
  noisePercent: policy.noisePercent,
  redact: policy.redact ?? [],
  rules: policy.rules ?? [],
  gate: policy.gate,
  capture: policy.capture ?? null,
  notify: policy.notify && shownNotifyTarget(policy.notify),
});

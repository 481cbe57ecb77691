import type { CaptureSettings } from "../evidence/capture-settings.ts";
import type { FieldRule } from "../evidence/field-rules.ts";
import type { EvidencePolicyChange } from "../evidence/policy-change.ts";
import type { Gate, ShadowReport } from "../evidence/verdict.ts";
import type { NotifyTarget, ServiceRecord } from "../registry/records.ts";

// What the coordinator's changes answer with, as the admin API shows them.

/** What an assignment did: whether main moved, the versions after it, and the verdict the gate decided on. */
export interface AssignResult {
  changed: boolean;
  services: ServiceRecord[];
  verdict: ShadowReport | null;
  warning?: string;
}

/** A name's policy as the admin API shows it: every field present. */
export interface PolicyResult {
  ignore: string[];
  headers: string[];
  noisePercent: number;
  /** Sample fields stored redacted besides the credential-named ones: `query.<param>`, `body.<field>`. */
  redact: string[];
  /** How the values at some paths compare, applied before noise and ignore. */
  rules: FieldRule[];
  gate: Gate;
  /** Traffic kept for replays; null when off. */
  capture: CaptureSettings | null;
  /**
   * Where the name's changes are POSTed, and which; null for nowhere. The URL is write-only: shown by
   * scheme and host only (`https://hooks.slack.com/…`), as its path may be the receiver's secret.
   */
  notify: NotifyTarget | null;
}

/**
 * A change to a name's policy: given fields replace the stored ones, gate thresholds one by one, and
 * `ignoreAdd`/`ignoreRemove` and `redactAdd`/`redactRemove` edit the stored ignore and redact lists
 * path by path.
 */
export type PolicyChange = EvidencePolicyChange & {
  /** Replaces where events go (without `url`, the stored URL is kept and only the events change); null stops them. */
  notify?: (Omit<NotifyTarget, "url"> & { url?: string }) | null;
};

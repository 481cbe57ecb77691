import type { AuditAction, ServiceStatus } from "../db/schema.ts";
import type { FieldRule } from "../evidence/field-rules.ts";
import type { Gate, PolicyOverrides, ShadowReport } from "../evidence/verdict.ts";
import type { NotifyTarget } from "../notify/target.ts";

/** Who made an admin call, as the audit trail records it. */
export type Actor = "admin-token" | "read-token" | `access:${string}` | "rollout";

/** A version as the admin API and the CLI show it. */
export interface ServiceRecord {
  name: string;
  version: string;
  origin: string;
  main: boolean;
  status: ServiceStatus;
  statusSince: string;
  createdAt: string;
  mirrorPercent: number;
  mirrorMethods: string[] | null;
  /** Request headers removed from the copies this version receives, lower case. */
  stripHeaders: string[];
  /** 0–50: the share of requests this version answers while a shadow (main gets their copies). */
  canaryPercent: number;
  /** The header whose value picks the canary's requests; null for the request id. */
  canaryKey: string | null;
  /**
   * Whether main also gets a marked copy of the requests this version answers as a canary that are
   * not safe (GET, HEAD, OPTIONS): only for a main that honours the copy marker, so no write is done twice.
   */
  canaryWrites: boolean;
  /** Whether requests to this version keep Cloudflare Access's assertion, for an origin that checks it itself. */
  forwardAccess: boolean;
}

/** The fields of a record that PATCH changes: what a version receives and answers while a shadow. */
export type TrafficControlField =
  | "mirrorPercent"
  | "mirrorMethods"
  | "stripHeaders"
  | "canaryPercent"
  | "canaryKey"
  | "canaryWrites"
  | "forwardAccess";

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
export type PolicyChange = PolicyOverrides & {
  ignoreAdd?: string[];
  ignoreRemove?: string[];
  redactAdd?: string[];
  redactRemove?: string[];
  /** Adds rules, replacing a stored rule for the same path. */
  rulesAdd?: FieldRule[];
  /** Removes the rules for these paths. */
  rulesRemove?: string[];
  /** Replaces where events go (without `url`, the stored URL is kept and only the events change); null stops them. */
  notify?: (Omit<NotifyTarget, "url"> & { url?: string }) | null;
};

/** One change in the audit trail, as the admin API shows it. */
export interface AuditRecord {
  id: number;
  at: string;
  actor: Actor;
  action: AuditAction;
  name: string;
  version: string | null;
  detail: Record<string, unknown>;
}

import type { Actor } from "../actor.ts";

// The registry's records: a name's versions, who changed them, and where the name's changes are told.

export const SERVICE_STATUSES = ["running", "unreachable", "unknown"] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

export const AUDIT_ACTIONS = ["deploy", "assign", "kill", "traffic", "policy", "rollout", "replay"] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What a policy's `notify` may ask to be told about. */
export const NOTIFY_EVENTS = ["verdict", "assign", "kill", "rollout", "replay"] as const;
export type NotifyEventName = (typeof NOTIFY_EVENTS)[number];

/** Where a name's changes are POSTed, and which ones. */
export interface NotifyTarget {
  url: string;
  events: NotifyEventName[];
}

export type { Actor } from "../actor.ts";

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

import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { PolicyOverrides } from "../evidence/verdict.ts";
import { AUDIT_ACTIONS, type NotifyTarget, SERVICE_STATUSES } from "../registry/records.ts";
import { ROLLOUT_STATES, type RolloutRow, type RolloutStepResult } from "../registry/rollout-records.ts";

export type { RolloutRow, RolloutState, RolloutStepResult } from "../registry/rollout-records.ts";
export { ROLLOUT_STATES } from "../registry/rollout-records.ts";

/** `true` only when two types are the same: a row type drizzle infers, and the record it must be. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

export { AUDIT_ACTIONS, type AuditAction, SERVICE_STATUSES, type ServiceStatus } from "../registry/records.ts";

/** One row per deployed version of a service; D1 is the registry's source of truth. */
export const services = sqliteTable(
  "services",
  {
    name: text().notNull(),
    version: text().notNull(),
    origin: text().notNull(),
    main: integer({ mode: "boolean" }).notNull().default(false),
    status: text({ enum: SERVICE_STATUSES }).notNull().default("unknown"),
    statusSince: integer("status_since", { mode: "timestamp_ms" }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    // Traffic controls, in effect while the version is a shadow: the share of requests it receives
    // (0–100, two decimals) and the methods it receives (null: every method).
    mirrorPercent: real("mirror_percent").notNull().default(100),
    mirrorMethods: text("mirror_methods", { mode: "json" }).$type<string[] | null>(),
    // Canary, in effect while the version is a shadow: the share of requests it answers (0–50, two
    // decimals), and the header whose value picks them (null: the request id).
    canaryPercent: real("canary_percent").notNull().default(0),
    canaryKey: text("canary_key"),
    // Request headers removed from the copies this version receives (lower case); none by default.
    stripHeaders: text("strip_headers", { mode: "json" }).notNull().$type<string[]>().default([]),
    // Whether main also gets a marked copy of the non-idempotent requests this version answers as a
    // canary (only for origins that honour the copy marker); off, so no write is done twice.
    canaryWrites: integer("canary_writes", { mode: "boolean" }).notNull().default(false),
    // Whether this origin receives the Cloudflare Access assertion (for origins that check it
    // themselves); off, so the gateway's credentials stay at the gateway.
    forwardAccess: integer("forward_access", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    // The composite key is the unique index on (name, version): deploying twice can never replace.
    primaryKey({ columns: [t.name, t.version] }),
    // Belt to the coordinator's braces: at most one main per name, whatever the writer.
    uniqueIndex("services_one_main_per_name").on(t.name).where(sql`${t.main} = 1`),
  ],
);

export type ServiceRow = typeof services.$inferSelect;

/** What a policy row holds: the evidence policy's overrides, and where the name's changes are notified. */
export type StoredPolicy = PolicyOverrides & { notify?: NotifyTarget };

/**
 * A name's evidence policy (ignore list, compared headers, noise sampling, gate), as the
 * admin API validated it. A name without a row has the defaults; the row goes with the name.
 */
export const policies = sqliteTable("policies", {
  name: text().primaryKey(),
  policy: text({ mode: "json" }).notNull().$type<StoredPolicy>(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * A name's rollout: one version's canary share raised step by step while its verdict passes.
 * One row per name (the latest rollout); only the ServiceCoordinator writes it.
 */
export const rollouts = sqliteTable("rollouts", {
  name: text().primaryKey(),
  version: text().notNull(),
  steps: text({ mode: "json" }).notNull().$type<number[]>(),
  stepMinutes: real("step_minutes").notNull(),
  promote: integer({ mode: "boolean" }).notNull(),
  state: text({ enum: ROLLOUT_STATES }).notNull(),
  /** Index into `steps` of the share in effect. */
  step: integer().notNull(),
  stepSince: integer("step_since", { mode: "timestamp_ms" }).notNull(),
  startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
  /** The verdict of every step that ended, in order. */
  results: text({ mode: "json" }).notNull().$type<RolloutStepResult[]>(),
  /** Why it ended, when it did. */
  reasons: text({ mode: "json" }).notNull().$type<string[]>(),
  endedAt: integer("ended_at", { mode: "timestamp_ms" }),
});

// The table's rows are the registry's RolloutRow, field for field.
true satisfies Same<typeof rollouts.$inferSelect, RolloutRow>;

/**
 * The change history: one row per change, written in the same D1 batch as the change itself,
 * so there is no change without its row. Nothing updates or deletes a row; a killed name keeps its history.
 */
export const audit = sqliteTable(
  "audit",
  {
    // Increasing: newest first is id order, and `before` pages by it.
    id: integer().primaryKey({ autoIncrement: true }),
    at: integer({ mode: "timestamp_ms" }).notNull(),
    /** `admin-token`, `read-token` or `access:<email>`. */
    actor: text().notNull(),
    action: text({ enum: AUDIT_ACTIONS }).notNull(),
    name: text().notNull(),
    /** The version changed; null for a change of the whole name (its policy, killing every version). */
    version: text(),
    detail: text({ mode: "json" }).notNull().$type<Record<string, unknown>>(),
  },
  (t) => [index("audit_by_name").on(t.name, t.id)],
);

export type AuditRow = typeof audit.$inferSelect;

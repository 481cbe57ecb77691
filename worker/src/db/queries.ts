import { and, asc, desc, eq, lt, ne, type SQL } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { type EvidencePolicy, withDefaults } from "../evidence/verdict.ts";
import type { Actor, AuditRecord, NotifyTarget, ServiceRecord, TrafficControlField } from "../registry/records.ts";
import {
  type AuditAction,
  type AuditRow,
  audit,
  policies,
  type RolloutRow,
  rollouts,
  type ServiceRow,
  type StoredPolicy,
  services,
} from "./schema.ts";

export type Database = DrizzleD1Database;

export const openDatabase = (d1: D1Database): Database => drizzle(d1);

export const toRecord = (row: ServiceRow): ServiceRecord => ({
  name: row.name,
  version: row.version,
  origin: row.origin,
  main: row.main,
  status: row.status,
  statusSince: row.statusSince.toISOString(),
  createdAt: row.createdAt.toISOString(),
  mirrorPercent: row.mirrorPercent,
  mirrorMethods: row.mirrorMethods ?? null,
  stripHeaders: row.stripHeaders ?? [],
  canaryPercent: row.canaryPercent,
  canaryKey: row.canaryKey ?? null,
  canaryWrites: row.canaryWrites,
  forwardAccess: row.forwardAccess,
});

/** One change for the audit trail; every write below appends it in the same D1 batch as the change. */
export interface AuditEntry {
  at: Date;
  actor: Actor;
  action: AuditAction;
  name: string;
  version: string | null;
  detail: Record<string, unknown>;
}

const appendAudit = (db: Database, entry: AuditEntry) => db.insert(audit).values(entry);

export const toAuditRecord = (row: AuditRow): AuditRecord => ({
  id: row.id,
  at: row.at.toISOString(),
  actor: row.actor as Actor,
  action: row.action,
  name: row.name,
  version: row.version,
  detail: row.detail,
});

/** The trail, newest first: of one name or all, before a row id (the previous page's last), at most `limit` rows. */
export async function readAudit(
  db: Database,
  query: { name?: string; before?: number; limit: number },
): Promise<AuditRow[]> {
  const conditions: SQL[] = [];
  if (query.name !== undefined) conditions.push(eq(audit.name, query.name));
  if (query.before !== undefined) conditions.push(lt(audit.id, query.before));
  return db
    .select()
    .from(audit)
    .where(and(...conditions))
    .orderBy(desc(audit.id))
    .limit(query.limit);
}

const listingOrder = [asc(services.name), asc(services.createdAt), asc(services.version)];

export async function listServices(db: Database, name?: string): Promise<ServiceRow[]> {
  const query = db.select().from(services);
  return name === undefined
    ? query.orderBy(...listingOrder)
    : query.where(eq(services.name, name)).orderBy(...listingOrder);
}

/** A record as it is first written: its times are both `now`. */
type NewVersion = Pick<ServiceRecord, "name" | "version" | "origin" | "main" | "status"> &
  Partial<Pick<ServiceRecord, TrafficControlField>> & {
    now: Date;
  };

export async function insertVersion(db: Database, v: NewVersion, change: AuditEntry): Promise<ServiceRow> {
  const [[row]] = await db.batch([
    db
      .insert(services)
      .values({
        name: v.name,
        version: v.version,
        origin: v.origin,
        main: v.main,
        status: v.status,
        statusSince: v.now,
        createdAt: v.now,
        mirrorPercent: v.mirrorPercent,
        mirrorMethods: v.mirrorMethods,
        stripHeaders: v.stripHeaders,
        canaryPercent: v.canaryPercent,
        canaryKey: v.canaryKey,
        canaryWrites: v.canaryWrites,
        forwardAccess: v.forwardAccess,
      })
      .returning(),
    appendAudit(db, change),
  ]);
  if (!row) throw new Error(`insert of ${v.name} ${v.version} returned no row`);
  return row;
}

/**
 * Moves main to `version` in one D1 batch, so no reader ever sees zero or two mains. Both the new
 * and the old main's canary shares go to 0: a main has none, and a demoted main must not answer a
 * share of requests the moment it becomes a shadow.
 * `also` joins the same batch (a rollout's end, say).
 */
export async function setMain(
  db: Database,
  name: string,
  version: string,
  change: AuditEntry,
  ...also: BatchItem[]
): Promise<void> {
  await db.batch([
    db
      .update(services)
      .set({ main: false, canaryPercent: 0 })
      .where(and(eq(services.name, name), eq(services.main, true))),
    db
      .update(services)
      .set({ main: true, canaryPercent: 0 })
      .where(and(eq(services.name, name), eq(services.version, version))),
    appendAudit(db, change),
    ...also,
  ]);
}

/** Removes one version in one D1 batch with its audit row; `also` joins the batch (a rollout's end, say). */
export async function deleteVersion(
  db: Database,
  name: string,
  version: string,
  change: AuditEntry,
  ...also: BatchItem[]
): Promise<ServiceRow[]> {
  const [killed] = await db.batch([
    db
      .delete(services)
      .where(and(eq(services.name, name), eq(services.version, version)))
      .returning(),
    appendAudit(db, change),
    ...also,
  ]);
  return killed;
}

/**
 * Forgets a name in one D1 batch: every version (or the given one, when it is
 * the last) and the name's policy, so that all of it goes at once or none does.
 */
export async function forgetName(
  db: Database,
  name: string,
  change: AuditEntry,
  lastVersion?: string,
): Promise<ServiceRow[]> {
  const versions =
    lastVersion === undefined
      ? eq(services.name, name)
      : and(eq(services.name, name), eq(services.version, lastVersion));
  const [killed] = await db.batch([
    db.delete(services).where(versions).returning(),
    db.delete(policies).where(eq(policies.name, name)),
    db.delete(rollouts).where(eq(rollouts.name, name)),
    // The name's history stays: the kill is its last row.
    appendAudit(db, change),
  ]);
  return killed;
}

/** The traffic controls of one version; only the given ones change. `undefined` when the version is gone. */
export async function updateTrafficControls(
  db: Database,
  target: Pick<ServiceRecord, "name" | "version">,
  changes: Partial<Pick<ServiceRecord, TrafficControlField>>,
  change: AuditEntry,
): Promise<ServiceRow | undefined> {
  const [[row]] = await db.batch([
    db
      .update(services)
      .set(changes)
      .where(and(eq(services.name, target.name), eq(services.version, target.version)))
      .returning(),
    appendAudit(db, change),
  ]);
  return row;
}

/** Records a health result; `statusSince` moves only when the status actually changes. */
export async function recordStatus(
  db: Database,
  target: Pick<ServiceRecord, "name" | "version">,
  status: ServiceRecord["status"],
  now: Date,
): Promise<boolean> {
  const changed = await db
    .update(services)
    .set({ status, statusSince: now })
    .where(and(eq(services.name, target.name), eq(services.version, target.version), ne(services.status, status)))
    .returning({ name: services.name });
  return changed.length > 0;
}

/** A name's whole policy: the evidence policy with its defaults, and its notification target if any. */
export type NamePolicy = EvidencePolicy & { notify: NotifyTarget | null };

/** A name's policy: what its operator set, completed with the defaults. */
export async function readPolicy(db: Database, name: string): Promise<NamePolicy> {
  const [row] = await db.select({ policy: policies.policy }).from(policies).where(eq(policies.name, name));
  const { notify, ...evidence } = row?.policy ?? {};
  return { ...withDefaults(evidence), notify: notify ?? null };
}

/** Every name whose policy notifies somewhere, with its target: what the cron's verdict watch reads. */
export async function listNotifyTargets(db: Database): Promise<Map<string, NotifyTarget>> {
  const rows = await db.select({ name: policies.name, policy: policies.policy }).from(policies);
  const targets = new Map<string, NotifyTarget>();
  for (const row of rows) if (row.policy.notify) targets.set(row.name, row.policy.notify);
  return targets;
}

/** Only what the operator set of a name's policy, without the defaults: what a partial update builds on. */
export async function readPolicyOverrides(db: Database, name: string): Promise<StoredPolicy> {
  const [row] = await db.select({ policy: policies.policy }).from(policies).where(eq(policies.name, name));
  return row?.policy ?? {};
}

/** Stores what the operator set; the defaults stay out of the row, so better defaults reach it later. */
export async function writePolicy(
  db: Database,
  name: string,
  overrides: StoredPolicy,
  change: AuditEntry,
): Promise<void> {
  const now = change.at;
  await db.batch([
    db
      .insert(policies)
      .values({ name, policy: overrides, updatedAt: now })
      .onConflictDoUpdate({ target: policies.name, set: { policy: overrides, updatedAt: now } }),
    appendAudit(db, change),
  ]);
}

/** One statement of a D1 batch. */
type BatchItem = Parameters<Database["batch"]>[0][number];

/** A name's latest rollout, running or ended. */
export async function readRollout(db: Database, name: string): Promise<RolloutRow | undefined> {
  const [row] = await db.select().from(rollouts).where(eq(rollouts.name, name));
  return row;
}

export async function listRunningRollouts(db: Database): Promise<RolloutRow[]> {
  return db.select().from(rollouts).where(eq(rollouts.state, "running"));
}

/** Writes a rollout (replacing the name's earlier one) as a batch statement. */
export const putRollout = (db: Database, row: RolloutRow) =>
  db.insert(rollouts).values(row).onConflictDoUpdate({ target: rollouts.name, set: row });

/** Sets one version's canary share as a batch statement, so it changes with the rollout's state. */
export const putCanary = (db: Database, name: string, version: string, canaryPercent: number) =>
  db
    .update(services)
    .set({ canaryPercent })
    .where(and(eq(services.name, name), eq(services.version, version)));

/** An audit row as a batch statement, for changes written outside the helpers above (rollouts). */
export const auditStatement = appendAudit;

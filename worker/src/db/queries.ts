import { and, asc, eq, ne } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import type { PolicyResult, ServiceRecord } from "../api/schemas.ts";
import { type EvidencePolicy, withDefaults } from "../evidence/verdict.ts";
import type { NotifyTarget } from "../notify/target.ts";
import { policies, type RolloutRow, rollouts, type ServiceRow, type StoredPolicy, services } from "./schema.ts";

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
  canaryPercent: row.canaryPercent,
  canaryKey: row.canaryKey ?? null,
});

const listingOrder = [asc(services.name), asc(services.createdAt), asc(services.version)];

export async function listServices(db: Database, name?: string): Promise<ServiceRow[]> {
  const query = db.select().from(services);
  return name === undefined
    ? query.orderBy(...listingOrder)
    : query.where(eq(services.name, name)).orderBy(...listingOrder);
}

/** A record as it is first written: its times are both `now`. */
export type NewVersion = Pick<ServiceRecord, "name" | "version" | "origin" | "main" | "status"> &
  Partial<Pick<ServiceRecord, "mirrorPercent" | "mirrorMethods" | "canaryPercent" | "canaryKey">> & { now: Date };

export async function insertVersion(db: Database, v: NewVersion): Promise<ServiceRow> {
  const [row] = await db
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
      canaryPercent: v.canaryPercent,
      canaryKey: v.canaryKey,
    })
    .returning();
  if (!row) throw new Error(`insert of ${v.name} ${v.version} returned no row`);
  return row;
}

/**
 * Moves main to `version` in one D1 batch, so no reader ever sees zero or two mains. The new main's
 * canary share goes to 0: it answers everything now, and must not answer a share again if demoted.
 * `also` joins the same batch (a rollout's end, say).
 */
export async function setMain(db: Database, name: string, version: string, ...also: BatchItem[]): Promise<void> {
  await db.batch([
    db
      .update(services)
      .set({ main: false })
      .where(and(eq(services.name, name), eq(services.main, true))),
    db
      .update(services)
      .set({ main: true, canaryPercent: 0 })
      .where(and(eq(services.name, name), eq(services.version, version))),
    ...also,
  ]);
}

export async function deleteVersion(db: Database, name: string, version: string): Promise<ServiceRow[]> {
  return db
    .delete(services)
    .where(and(eq(services.name, name), eq(services.version, version)))
    .returning();
}

/**
 * Forgets a name in one D1 batch: every version (or the given one, when it is
 * the last) and the name's policy, so that all of it goes at once or none does.
 */
export async function forgetName(db: Database, name: string, lastVersion?: string): Promise<ServiceRow[]> {
  const versions =
    lastVersion === undefined
      ? eq(services.name, name)
      : and(eq(services.name, name), eq(services.version, lastVersion));
  const [killed] = await db.batch([
    db.delete(services).where(versions).returning(),
    db.delete(policies).where(eq(policies.name, name)),
    db.delete(rollouts).where(eq(rollouts.name, name)),
  ]);
  return killed;
}

/** The traffic controls of one version; only the given ones change. `undefined` when the version is gone. */
export async function updateTrafficControls(
  db: Database,
  target: Pick<ServiceRecord, "name" | "version">,
  changes: Partial<Pick<ServiceRecord, "mirrorPercent" | "mirrorMethods" | "canaryPercent" | "canaryKey">>,
): Promise<ServiceRow | undefined> {
  const [row] = await db
    .update(services)
    .set(changes)
    .where(and(eq(services.name, target.name), eq(services.version, target.version)))
    .returning();
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

/** A policy as the admin API shows it: every field present. */
export const toPolicyResult = (policy: NamePolicy): PolicyResult => ({
  ignore: policy.ignore,
  headers: policy.headers ?? [],
  noisePercent: policy.noisePercent,
  gate: policy.gate,
  notify: policy.notify,
});

/** Only what the operator set of a name's policy, without the defaults: what a partial update builds on. */
export async function readPolicyOverrides(db: Database, name: string): Promise<StoredPolicy> {
  const [row] = await db.select({ policy: policies.policy }).from(policies).where(eq(policies.name, name));
  return row?.policy ?? {};
}

/** Stores what the operator set; the defaults stay out of the row, so better defaults reach it later. */
export async function writePolicy(db: Database, name: string, overrides: StoredPolicy, now: Date): Promise<void> {
  await db
    .insert(policies)
    .values({ name, policy: overrides, updatedAt: now })
    .onConflictDoUpdate({ target: policies.name, set: { policy: overrides, updatedAt: now } });
}

export async function deletePolicy(db: Database, name: string): Promise<void> {
  await db.delete(policies).where(eq(policies.name, name));
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

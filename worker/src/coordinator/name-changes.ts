import {
  auditStatement,
  deleteVersion,
  forgetName,
  insertVersion,
  listServices,
  putCanary,
  putRollout,
  readPolicy,
  readPolicyOverrides,
  readRollout,
  setMain,
  toRecord,
  updateTrafficControls,
  writePolicy,
} from "../db/queries.ts";
import type { RolloutRow, StoredPolicy } from "../db/schema.ts";
import { applyPolicyChange } from "../evidence/policy-change.ts";
import { notifyTargetOf, withNotifyShown } from "../notify/target.ts";
import type { Actor, ServiceRecord, TrafficControlField } from "../registry/records.ts";
import {
  decideAssign,
  decideCanaryShare,
  decideDeploy,
  decideGate,
  decideKillName,
  decideKillVersion,
  decideTrafficChange,
  GATE_WINDOW,
  killEndsName,
  requireName,
} from "../registry/rules.ts";
import { auditEntry, type NameContext } from "./context.ts";
import { destroyEvidence, forgetEvidence, notePromotion, verdictOf } from "./ledger-effects.ts";
import { toPolicyResult } from "./policy-view.ts";
import type { AssignResult, PolicyChange, PolicyResult } from "./results.ts";
import { endRollout, rolloutAudit } from "./rollout-audit.ts";
import { forgetVerdicts } from "./verdict-memory.ts";

// The changes of a name's versions, each run in the name's queue: read from D1, decide with a pure rule, write.

export type DeployInput = Pick<ServiceRecord, "name" | "version" | "origin" | "status"> &
  Partial<Pick<ServiceRecord, TrafficControlField>>;

export type TrafficControls = Partial<Pick<ServiceRecord, TrafficControlField>>;

export async function deploy(cx: NameContext, input: DeployInput, actor: Actor): Promise<ServiceRecord> {
  const existing = await listServices(cx.db, input.name);
  const { main } = decideDeploy(existing, input.name, input.version);
  decideCanaryShare(existing, input.name, { ...input, main, canaryPercent: input.canaryPercent ?? 0 });
  // Copies already in flight when an earlier deployment of this version was killed may have
  // landed in the ledger since; before the version exists again, nothing new can.
  if (!main) await forgetEvidence(cx.env, input.name, input.version);
  const row = await insertVersion(
    cx.db,
    { ...input, main, now: new Date() },
    auditEntry(actor, "deploy", input.name, input.version, {
      origin: input.origin,
      main,
      status: input.status,
      mirrorPercent: input.mirrorPercent ?? 100,
      mirrorMethods: input.mirrorMethods ?? null,
      stripHeaders: input.stripHeaders ?? [],
      canaryPercent: input.canaryPercent ?? 0,
      canaryWrites: input.canaryWrites ?? false,
      forwardAccess: input.forwardAccess ?? false,
    }),
  );
  return toRecord(row);
}

/** G1: moves main after the promotion gate, which reads the target's evidence in this same serialised step. */
export async function assign(
  cx: NameContext,
  name: string,
  version: string,
  force: boolean,
  actor: Actor,
): Promise<AssignResult> {
  const existing = await listServices(cx.db, name);
  const decision = decideAssign(existing, name, version);
  if (!decision.change) return { changed: false, services: existing.map(toRecord), verdict: null };
  const { verdict, evidence } = await verdictOf(cx, name, decision.previousMain, version);
  const { warning } = decideGate(evidence, name, version, { force, window: GATE_WINDOW.label });
  // A forced promotion keeps the verdict it overrode, with its reasons.
  const detail = {
    from: decision.previousMain ?? null,
    verdict: verdict?.verdict ?? "unavailable",
    reasons: verdict?.reasons ?? [],
    force,
    ...(warning !== undefined && { warning }),
  };
  const endings = await endRolloutByHand(cx, name, version, actor);
  await setMain(cx.db, name, version, auditEntry(actor, "assign", name, version, detail), ...endings);
  await notePromotion(cx.env, name, version);
  const services = (await listServices(cx.db, name)).map(toRecord);
  return { changed: true, services, verdict, ...(warning !== undefined && { warning }) };
}

/** A running rollout ends with a hand-made assign: promoted when it was its version, else aborted. */
async function endRolloutByHand(cx: NameContext, name: string, version: string, actor: Actor) {
  const rollout = await readRollout(cx.db, name);
  if (rollout?.state !== "running") return [];
  const now = new Date();
  const ended: RolloutRow =
    rollout.version === version
      ? endRollout(rollout, "promoted", [`${version} was made main by hand`], now)
      : endRollout(rollout, "aborted", [`${version} was made main by hand during the rollout`], now);
  return [
    putRollout(cx.db, ended),
    putCanary(cx.db, name, ended.version, 0),
    auditStatement(cx.db, rolloutAudit(actor, { rollout: ended, change: ended.state as "promoted" })),
  ];
}

/**
 * Kills one version, or every version of the name when `version` is omitted.
 * When the name ends, its policy goes in the same D1 batch and its evidence ledger is destroyed;
 * a killed shadow's evidence is forgotten (and again when it is deployed anew), so it starts clean.
 */
export async function kill(
  cx: NameContext,
  name: string,
  version: string | undefined,
  actor: Actor,
): Promise<ServiceRecord[]> {
  const existing = await listServices(cx.db, name);
  if (version === undefined) decideKillName(existing, name);
  else decideKillVersion(existing, name, version);
  const versions = version === undefined ? existing.map((v) => v.version) : [version];
  const mainVersion = existing.find((v) => v.main)?.version ?? null;
  const audit = auditEntry(actor, "kill", name, version ?? null, { versions, main: mainVersion });
  if (version !== undefined && !killEndsName(existing, version)) {
    // A rollout of the killed version ends in the same D1 batch, so neither change is ever written alone.
    const rollout = await readRollout(cx.db, name);
    const aborted =
      rollout?.state === "running" && rollout.version === version
        ? endRollout(rollout, "aborted", [`${version} was killed`], new Date())
        : undefined;
    const ending = aborted
      ? [
          putRollout(cx.db, aborted),
          auditStatement(cx.db, rolloutAudit(actor, { rollout: aborted, change: "aborted" })),
        ]
      : [];
    const killed = (await deleteVersion(cx.db, name, version, audit, ...ending)).map(toRecord);
    await forgetEvidence(cx.env, name, version);
    forgetVerdicts(cx.kv, killed);
    return killed;
  }
  const killed = await forgetName(cx.db, name, audit, version);
  await destroyEvidence(cx.env, name);
  forgetVerdicts(cx.kv, killed);
  return killed.map(toRecord);
}

export async function setTrafficControls(
  cx: NameContext,
  name: string,
  version: string,
  changes: TrafficControls,
  actor: Actor,
): Promise<ServiceRecord> {
  const existing = await listServices(cx.db, name);
  const target = decideTrafficChange(existing, name, version);
  if (changes.canaryPercent !== undefined) {
    decideCanaryShare(existing, name, { version, main: target.main, canaryPercent: changes.canaryPercent });
  }
  const audit = auditEntry(actor, "traffic", name, version, { ...changes });
  const row = await updateTrafficControls(cx.db, { name, version }, changes, audit);
  if (!row) throw new Error(`update of ${name} ${version} found no row`);
  return toRecord(row);
}

/**
 * Applies a policy change to the stored policy (see `applyPolicyChange`); in the queue, so that a kill cannot
 * orphan the row and two edits of the ignore list cannot both start from the same read.
 */
export async function setPolicy(
  cx: NameContext,
  name: string,
  changes: PolicyChange,
  actor: Actor,
): Promise<PolicyResult> {
  requireName(await listServices(cx.db, name), name);
  const stored = await readPolicyOverrides(cx.db, name);
  const { notify, ...evidenceChanges } = changes;
  const merged: StoredPolicy = {
    ...applyPolicyChange(stored, evidenceChanges),
    ...(stored.notify && { notify: stored.notify }),
  };
  if (notify === null) delete merged.notify;
  else if (notify !== undefined) merged.notify = notifyTargetOf(notify, stored.notify);
  // The audit row shows the URL as the API does: by scheme and host only.
  const detail = withNotifyShown({ ...changes, ...(merged.notify && notify && { notify: merged.notify }) });
  await writePolicy(cx.db, name, merged, auditEntry(actor, "policy", name, null, detail));
  return toPolicyResult(await readPolicy(cx.db, name));
}

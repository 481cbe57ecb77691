import { DurableObject } from "cloudflare:workers";
import { isStorageFailure, storageUnavailable } from "../db/failure.ts";
import {
  type AuditEntry,
  auditStatement,
  deleteVersion,
  forgetName,
  insertVersion,
  listServices,
  openDatabase,
  putCanary,
  putRollout,
  readPolicy,
  readPolicyOverrides,
  readRollout,
  setMain,
  toPolicyResult,
  toRecord,
  updateTrafficControls,
  withNotifyShown,
  writePolicy,
} from "../db/queries.ts";
import type { RolloutRow, RolloutStepResult, StoredPolicy } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { AppError, type ErrorBody, reasonOf } from "../errors.ts";
import { applyPolicyChange } from "../evidence/policy-change.ts";
import type { Verdict } from "../evidence/verdict.ts";
import { notifyTargetOf } from "../notify/target.ts";
import type {
  Actor,
  AssignResult,
  PolicyChange,
  PolicyResult,
  ServiceRecord,
  TrafficControlField,
} from "../registry/records.ts";
import { decideRolloutGate, decideRolloutStart, decideRolloutTick, type RolloutSpec } from "../registry/rollout.ts";
import {
  decideAssign,
  decideCanaryShare,
  decideDeploy,
  decideGate,
  decideKillName,
  decideKillVersion,
  decideTrafficChange,
  killEndsName,
  requireName,
} from "../registry/rules.ts";
import { callLedger } from "./ledger-call.ts";
import { endRollout, ROLLOUT_ACTOR, type RolloutChange, rolloutAudit, startAudit } from "./rollout-audit.ts";
import { judgeStep } from "./step-verdict.ts";
import { readVerdict } from "./verdict-read.ts";

/** Errors lose their class across RPC, so the coordinator answers with plain data. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; status: AppError["status"]; body: ErrorBody };

export type DeployInput = Pick<ServiceRecord, "name" | "version" | "origin" | "status"> &
  Partial<Pick<ServiceRecord, TrafficControlField>>;

export type TrafficControls = Partial<Pick<ServiceRecord, TrafficControlField>>;

export type { RolloutChange } from "./rollout-audit.ts";

/** Who asked for a change: passed in by the API, so the audit row written with the change names them. */
const change = (
  actor: Actor,
  action: AuditEntry["action"],
  name: string,
  version: string | null,
  detail: AuditEntry["detail"],
): AuditEntry => ({
  at: new Date(),
  actor,
  action,
  name,
  version,
  detail,
});

/** A version's verdict moved between two looks of the cron. */
export interface VerdictChange {
  version: string;
  from: Verdict;
  to: Verdict;
}

/** Notifications of this name that reached their receiver, and those given up on. */
export interface NotificationCounts {
  delivered: number;
  failed: number;
}

const LAST_VERDICT = "verdict:";
const NOTIFICATIONS = "notifications";

/** The gate judges the last hour of evidence. */
export const GATE_WINDOW = { ms: 60 * 60_000, label: "1h" } as const;

/**
 * One instance per service name. Every change of that name runs here, one at
 * a time: read the name's versions from D1, decide with a pure rule, write.
 * Input gates stay open while D1 is awaited, so the queue below is what keeps
 * two changes from deciding on the same stale read.
 */
export class ServiceCoordinator extends DurableObject<Env> {
  #tail: Promise<unknown> = Promise.resolve();
  readonly #db = openDatabase(this.env.DB);

  deploy(input: DeployInput, actor: Actor): Promise<Outcome<ServiceRecord>> {
    return this.#serialised(async () => {
      const existing = await listServices(this.#db, input.name);
      const { main } = decideDeploy(existing, input.name, input.version);
      decideCanaryShare(existing, input.name, { ...input, main, canaryPercent: input.canaryPercent ?? 0 });
      // Copies already in flight when an earlier deployment of this version was killed may have
      // landed in the ledger since; before the version exists again, nothing new can.
      if (!main) await this.#forgetEvidence(input.name, input.version);
      const row = await insertVersion(
        this.#db,
        { ...input, main, now: new Date() },
        change(actor, "deploy", input.name, input.version, {
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
    });
  }

  /** G1: moves main after the promotion gate, which reads the target's evidence in this same serialised step. */
  assign(name: string, version: string, force: boolean, actor: Actor): Promise<Outcome<AssignResult>> {
    return this.#serialised(async () => {
      const existing = await listServices(this.#db, name);
      const decision = decideAssign(existing, name, version);
      if (!decision.change) return { changed: false, services: existing.map(toRecord), verdict: null };
      const { verdict, evidence } = await this.#verdictOf(name, decision.previousMain, version);
      const { warning } = decideGate(evidence, name, version, { force, window: GATE_WINDOW.label });
      // A forced promotion keeps the verdict it overrode, with its reasons.
      const detail = {
        from: decision.previousMain ?? null,
        verdict: verdict?.verdict ?? "unavailable",
        reasons: verdict?.reasons ?? [],
        force,
        ...(warning !== undefined && { warning }),
      };
      // A running rollout ends with the hand-made change: promoted when it was its version, else aborted.
      const rollout = await readRollout(this.#db, name);
      const now = new Date();
      let ended: RolloutRow | undefined;
      if (rollout?.state === "running") {
        ended =
          rollout.version === version
            ? endRollout(rollout, "promoted", [`${version} was made main by hand`], now)
            : endRollout(rollout, "aborted", [`${version} was made main by hand during the rollout`], now);
      }
      const endings = ended
        ? [
            putRollout(this.#db, ended),
            putCanary(this.#db, name, ended.version, 0),
            auditStatement(this.#db, rolloutAudit(actor, { rollout: ended, change: ended.state as "promoted" })),
          ]
        : [];
      await setMain(this.#db, name, version, change(actor, "assign", name, version, detail), ...endings);
      await this.#notePromotion(name, version);
      const services = (await listServices(this.#db, name)).map(toRecord);
      return { changed: true, services, verdict, ...(warning !== undefined && { warning }) };
    });
  }

  /**
   * Kills one version, or every version of the name when `version` is omitted.
   * When the name ends, its policy goes in the same D1 batch and its evidence ledger is destroyed;
   * a killed shadow's evidence is forgotten (and again when it is deployed anew), so it starts clean.
   */
  kill(name: string, version: string | undefined, actor: Actor): Promise<Outcome<ServiceRecord[]>> {
    return this.#serialised(async () => {
      const existing = await listServices(this.#db, name);
      if (version === undefined) decideKillName(existing, name);
      else decideKillVersion(existing, name, version);
      const versions = version === undefined ? existing.map((v) => v.version) : [version];
      const mainVersion = existing.find((v) => v.main)?.version ?? null;
      const audit = change(actor, "kill", name, version ?? null, { versions, main: mainVersion });
      if (version !== undefined && !killEndsName(existing, version)) {
        // A rollout of the killed version ends in the same D1 batch, so neither change is ever written alone.
        const rollout = await readRollout(this.#db, name);
        const aborted =
          rollout?.state === "running" && rollout.version === version
            ? endRollout(rollout, "aborted", [`${version} was killed`], new Date())
            : undefined;
        const ending = aborted
          ? [
              putRollout(this.#db, aborted),
              auditStatement(this.#db, rolloutAudit(actor, { rollout: aborted, change: "aborted" })),
            ]
          : [];
        const killed = (await deleteVersion(this.#db, name, version, audit, ...ending)).map(toRecord);
        await this.#forgetEvidence(name, version);
        this.#forgetVerdicts(killed);
        return killed;
      }
      const killed = await forgetName(this.#db, name, audit, version);
      await this.#destroyEvidence(name);
      this.#forgetVerdicts(killed);
      return killed.map(toRecord);
    });
  }

  setTrafficControls(
    name: string,
    version: string,
    changes: TrafficControls,
    actor: Actor,
  ): Promise<Outcome<ServiceRecord>> {
    return this.#serialised(async () => {
      const existing = await listServices(this.#db, name);
      const target = decideTrafficChange(existing, name, version);
      if (changes.canaryPercent !== undefined) {
        decideCanaryShare(existing, name, { version, main: target.main, canaryPercent: changes.canaryPercent });
      }
      const audit = change(actor, "traffic", name, version, { ...changes });
      const row = await updateTrafficControls(this.#db, { name, version }, changes, audit);
      if (!row) throw new Error(`update of ${name} ${version} found no row`);
      return toRecord(row);
    });
  }

  /**
   * Applies a policy change to the stored policy (see `applyPolicyChange`); here, so that a kill cannot
   * orphan the row and two edits of the ignore list cannot both start from the same read.
   */
  setPolicy(name: string, changes: PolicyChange, actor: Actor): Promise<Outcome<PolicyResult>> {
    return this.#serialised(async () => {
      requireName(await listServices(this.#db, name), name);
      const stored = await readPolicyOverrides(this.#db, name);
      const { notify, ...evidenceChanges } = changes;
      const merged: StoredPolicy = {
        ...applyPolicyChange(stored, evidenceChanges),
        ...(stored.notify && { notify: stored.notify }),
      };
      if (notify === null) delete merged.notify;
      else if (notify !== undefined) merged.notify = notifyTargetOf(notify, stored.notify);
      // The audit row shows the URL as the API does: by scheme and host only.
      const detail = withNotifyShown({ ...changes, ...(merged.notify && notify && { notify: merged.notify }) });
      await writePolicy(this.#db, name, merged, change(actor, "policy", name, null, detail));
      return toPolicyResult(await readPolicy(this.#db, name));
    });
  }

  /**
   * R0 and R1: starts a rollout at its first step, through the gate over the last hour (as `assign`);
   * the canary share, the rollout's state and its audit row (with the gate's verdict) in one D1 batch.
   */
  startRollout(name: string, version: string, spec: RolloutSpec, actor: Actor): Promise<Outcome<RolloutChange>> {
    return this.#serialised(async () => {
      const existing = await listServices(this.#db, name);
      decideRolloutStart(existing, await readRollout(this.#db, name), name, version);
      const force = spec.force === true;
      const gate = await this.#verdictOf(name, existing.find((v) => v.main)?.version, version);
      const { warning } = decideRolloutGate(gate.evidence, name, version, { force, window: GATE_WINDOW.label });
      const now = new Date();
      const rollout: RolloutRow = {
        name,
        version,
        steps: spec.steps,
        stepMinutes: spec.stepMinutes,
        promote: spec.promote,
        state: "running",
        step: 0,
        stepSince: now,
        startedAt: now,
        results: [],
        reasons: [],
        endedAt: null,
      };
      const started: RolloutChange = { rollout, change: "started", ...(warning !== undefined && { warning }) };
      await this.#db.batch([
        putRollout(this.#db, rollout),
        putCanary(this.#db, name, version, spec.steps[0] ?? 0),
        auditStatement(this.#db, startAudit(actor, started, gate.verdict, force)),
      ]);
      return started;
    });
  }

  /** Aborts the name's running rollout: canary back to 0, state `aborted`, with the reason. */
  abortRollout(name: string, reason: string, actor: Actor): Promise<Outcome<RolloutChange>> {
    return this.#serialised(async () => {
      const rollout = await readRollout(this.#db, name);
      if (rollout?.state !== "running") {
        requireName(await listServices(this.#db, name), name);
        throw new AppError(404, "rollout_not_found", `${name} has no running rollout`);
      }
      return this.#abort(rollout, [reason], new Date(), actor);
    });
  }

  /**
   * R2, the cron's look at the name's running rollout: the verdict over the current step
   * decides to wait, advance, finish (promoting through the gate) or abort.
   */
  tickRollout(name: string, cronMs: number): Promise<Outcome<RolloutChange | null>> {
    return this.#serialised(async () => {
      const rollout = await readRollout(this.#db, name);
      if (rollout?.state !== "running") return null;
      // The cron's time decides whether a step has lasted long enough; what is written carries this clock's.
      const now = new Date();
      const existing = await listServices(this.#db, name);
      const target = existing.find((v) => v.version === rollout.version);
      if (!target || target.main) {
        const why = target ? `${rollout.version} is main already` : `${rollout.version} is no longer deployed`;
        return this.#abort(rollout, [why], now, ROLLOUT_ACTOR);
      }
      const main = existing.find((v) => v.main)?.version;
      const evidence = await judgeStep(this.env, this.#db, rollout, main, Math.max(cronMs, now.getTime()));
      // Evidence that cannot be read decides nothing: the rollout waits for the next look.
      if ("unavailable" in evidence) return { rollout, change: null };
      const action = decideRolloutTick(rollout, evidence, new Date(cronMs));
      const result: RolloutStepResult = {
        percent: rollout.steps[rollout.step] ?? 0,
        verdict: evidence.verdict,
        reasons: [...evidence.reasons],
        at: now.toISOString(),
      };
      if (action.kind === "wait") return { rollout, change: null };
      if (action.kind === "abort")
        return this.#abort({ ...rollout, results: [...rollout.results, result] }, action.reasons, now, ROLLOUT_ACTOR);
      const passed = { ...rollout, results: [...rollout.results, result] };
      if (action.kind === "advance") {
        const advanced = { ...passed, step: rollout.step + 1, stepSince: now };
        const moved: RolloutChange = { rollout: advanced, change: "advanced" };
        await this.#db.batch([
          putRollout(this.#db, advanced),
          putCanary(this.#db, name, rollout.version, action.percent),
          auditStatement(this.#db, rolloutAudit(ROLLOUT_ACTOR, moved)),
        ]);
        return moved;
      }
      if (!action.promote) {
        const completed = endRollout(passed, "completed", ["every step passed; main unchanged (promote: false)"], now);
        const done: RolloutChange = { rollout: completed, change: "completed" };
        await this.#db.batch([
          putRollout(this.#db, completed),
          auditStatement(this.#db, rolloutAudit(ROLLOUT_ACTOR, done)),
        ]);
        return done;
      }
      // The promotion goes through the same gate as an assign, over the last hour.
      const gate = await this.#verdictOf(name, main, rollout.version);
      try {
        decideGate(gate.evidence, name, rollout.version, { force: false, window: GATE_WINDOW.label });
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== "gate_failed") return { rollout, change: null };
        return this.#abort(passed, [error.message, ...(error.reasons ?? [])], now, ROLLOUT_ACTOR);
      }
      const promoted = endRollout(passed, "promoted", [`every step passed; ${rollout.version} is main`], now);
      const finished: RolloutChange = { rollout: promoted, change: "promoted" };
      // Audited as an assign by the rollout, beside the rollout's own row.
      const assigned = change(ROLLOUT_ACTOR, "assign", name, rollout.version, {
        from: main ?? null,
        verdict: gate.verdict?.verdict ?? "unavailable",
        reasons: gate.verdict?.reasons ?? [],
        force: false,
        rollout: true,
      });
      await setMain(
        this.#db,
        name,
        rollout.version,
        assigned,
        putRollout(this.#db, promoted),
        auditStatement(this.#db, rolloutAudit(ROLLOUT_ACTOR, finished)),
      );
      await this.#notePromotion(name, rollout.version);
      return finished;
    });
  }

  /**
   * R2 between two crons: the ledger asks when evidence of `version` arrives (see RolloutWatch).
   * A running rollout of it whose step now fails is aborted at once; anything else waits for
   * the cron, which alone advances steps. Answers whether a rollout of the version still runs.
   */
  watchRollout(name: string, version: string): Promise<Outcome<{ running: boolean; change?: RolloutChange }>> {
    return this.#serialised(async () => {
      const rollout = await readRollout(this.#db, name);
      if (rollout?.state !== "running" || rollout.version !== version) return { running: false };
      const main = (await listServices(this.#db, name)).find((v) => v.main)?.version;
      const now = new Date();
      const judged = await judgeStep(this.env, this.#db, rollout, main, now.getTime());
      if ("unavailable" in judged || judged.verdict !== "fail") return { running: true };
      const action = decideRolloutTick(rollout, judged, now);
      if (action.kind !== "abort") return { running: true };
      const { verdict, reasons } = judged;
      const result: RolloutStepResult = {
        percent: rollout.steps[rollout.step] ?? 0,
        verdict,
        reasons,
        at: now.toISOString(),
      };
      const change = await this.#abort(
        { ...rollout, results: [...rollout.results, result] },
        action.reasons,
        now,
        ROLLOUT_ACTOR,
      );
      return { running: false, change };
    });
  }

  async #abort(rollout: RolloutRow, reasons: string[], now: Date, actor: Actor): Promise<RolloutChange> {
    const aborted = endRollout(rollout, "aborted", reasons, now);
    const ended: RolloutChange = { rollout: aborted, change: "aborted" };
    await this.#db.batch([
      putRollout(this.#db, aborted),
      putCanary(this.#db, rollout.name, rollout.version, 0),
      auditStatement(this.#db, rolloutAudit(actor, ended)),
    ]);
    return ended;
  }

  /**
   * Remembers each version's latest conclusive verdict (durably, in this object's
   * storage) and answers those that changed since, so that a verdict that holds for an
   * hour is told once, not every minute. Inconclusive looks change nothing: a sliding
   * window near `minRequests` would otherwise flap pass, inconclusive, pass and tell
   * each step. A version's first pass or fail is a change from inconclusive.
   */
  noteVerdicts(verdicts: { version: string; verdict: Verdict }[]): VerdictChange[] {
    const kv = this.ctx.storage.kv;
    const changes: VerdictChange[] = [];
    for (const { version, verdict } of verdicts) {
      if (verdict === "inconclusive") continue;
      const from = kv.get<Verdict>(`${LAST_VERDICT}${version}`) ?? "inconclusive";
      if (from === verdict) continue;
      changes.push({ version, from, to: verdict });
      kv.put(`${LAST_VERDICT}${version}`, verdict);
    }
    return changes;
  }

  countNotifications(delivered: number, failed: number): NotificationCounts {
    const kv = this.ctx.storage.kv;
    const counts = kv.get<NotificationCounts>(NOTIFICATIONS) ?? { delivered: 0, failed: 0 };
    const next = { delivered: counts.delivered + delivered, failed: counts.failed + failed };
    kv.put(NOTIFICATIONS, next);
    return next;
  }

  notificationCounts(): NotificationCounts {
    return this.ctx.storage.kv.get<NotificationCounts>(NOTIFICATIONS) ?? { delivered: 0, failed: 0 };
  }

  /** A killed version deployed again starts with no remembered verdict, as it starts with no evidence. */
  #forgetVerdicts(killed: readonly { version: string }[]): void {
    for (const { version } of killed) this.ctx.storage.kv.delete(`${LAST_VERDICT}${version}`);
  }

  /** The target's shadow report over a window (the gate's last hour unless given), or why it could not be read. */
  #verdictOf(name: string, main: string | undefined, version: string, window?: { from: number; to: number }) {
    const to = Date.now();
    return readVerdict(this.env, this.#db, name, main, version, window ?? { from: to - GATE_WINDOW.ms, to });
  }

  /**
   * Best effort, after D1: the ledger starts the new main's baseline now. A
   * ledger that missed it (logged) starts it at the first copy compared with it.
   */
  async #notePromotion(name: string, main: string): Promise<void> {
    try {
      const at = Date.now();
      await callLedger(this.env, name, (ledger) => ledger.promoted(main, at));
    } catch (error) {
      console.error(JSON.stringify({ event: "ledger_promotion_failed", name, main, message: reasonOf(error) }));
    }
  }

  /**
   * Best effort, after D1: the name is gone either way. A ledger that could not be
   * destroyed (logged) shows its old minutes to a name deployed again, until they age out.
   */
  async #destroyEvidence(name: string): Promise<void> {
    try {
      await callLedger(this.env, name, (ledger, shards) => ledger.destroy({ name, shards }));
    } catch (error) {
      console.error(JSON.stringify({ event: "ledger_destroy_failed", name, message: reasonOf(error) }));
    }
  }

  /**
   * Best effort, after D1, as for a name: the version is gone either way. Evidence
   * that could not be forgotten (logged) would be judged again if the same
   * version were deployed within the ledger's retention.
   */
  async #forgetEvidence(name: string, version: string): Promise<void> {
    try {
      await callLedger(this.env, name, (ledger, shards) => ledger.forget(version, { name, shards }));
    } catch (error) {
      console.error(JSON.stringify({ event: "ledger_forget_failed", name, version, message: reasonOf(error) }));
    }
  }

  #serialised<T>(operation: () => Promise<T>): Promise<Outcome<T>> {
    const run = this.#tail.then(operation);
    this.#tail = run.catch(() => undefined);
    return run.then(
      (value): Outcome<T> => ({ ok: true, value }),
      (error: unknown): Outcome<T> => {
        if (error instanceof AppError) return { ok: false, status: error.status, body: error.toBody() };
        if (!isStorageFailure(error)) throw error;
        // D1 failed: the change's one batch was written whole or not at all; the caller may read back or retry.
        console.error(JSON.stringify({ event: "storage_failed", message: reasonOf(error) }));
        const unavailable = storageUnavailable();
        return { ok: false, status: unavailable.status, body: unavailable.toBody() };
      },
    );
  }
}

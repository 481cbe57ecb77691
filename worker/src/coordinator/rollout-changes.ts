import { auditStatement, listServices, putCanary, putRollout, readRollout, setMain } from "../db/queries.ts";
import type { RolloutRow, RolloutStepResult } from "../db/schema.ts";
import { AppError } from "../errors.ts";
import type { Actor } from "../registry/records.ts";
import { decideRolloutGate, decideRolloutStart, decideRolloutTick, type RolloutSpec } from "../registry/rollout.ts";
import { decideGate, GATE_WINDOW, requireName } from "../registry/rules.ts";
import { auditEntry, type NameContext } from "./context.ts";
import { notePromotion, verdictOf } from "./ledger-effects.ts";
import { endRollout, ROLLOUT_ACTOR, type RolloutChange, rolloutAudit, startAudit } from "./rollout-audit.ts";
import { judgeStep } from "./step-verdict.ts";

// A rollout's changes, each run in the name's queue: start, abort, the cron's tick and the ledger's watch.

/**
 * R0 and R1: starts a rollout at its first step, through the gate over the last hour (as `assign`);
 * the canary share, the rollout's state and its audit row (with the gate's verdict) in one D1 batch.
 */
export async function startRollout(
  cx: NameContext,
  name: string,
  version: string,
  spec: RolloutSpec,
  actor: Actor,
): Promise<RolloutChange> {
  const existing = await listServices(cx.db, name);
  decideRolloutStart(existing, await readRollout(cx.db, name), name, version);
  const force = spec.force === true;
  const gate = await verdictOf(cx, name, existing.find((v) => v.main)?.version, version);
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
  await cx.db.batch([
    putRollout(cx.db, rollout),
    putCanary(cx.db, name, version, spec.steps[0] ?? 0),
    auditStatement(cx.db, startAudit(actor, started, gate.verdict, force)),
  ]);
  return started;
}

/** Aborts the name's running rollout: canary back to 0, state `aborted`, with the reason. */
export async function abortRollout(cx: NameContext, name: string, reason: string, actor: Actor) {
  const rollout = await readRollout(cx.db, name);
  if (rollout?.state !== "running") {
    requireName(await listServices(cx.db, name), name);
    throw new AppError(404, "rollout_not_found", `${name} has no running rollout`);
  }
  return abort(cx, rollout, [reason], new Date(), actor);
}

/**
 * R2, the cron's look at the name's running rollout: the verdict over the current step
 * decides to wait, advance, finish (promoting through the gate) or abort.
 */
export async function tickRollout(cx: NameContext, name: string, cronMs: number): Promise<RolloutChange | null> {
  const rollout = await readRollout(cx.db, name);
  if (rollout?.state !== "running") return null;
  // The cron's time decides whether a step has lasted long enough; what is written carries this clock's.
  const now = new Date();
  const existing = await listServices(cx.db, name);
  const target = existing.find((v) => v.version === rollout.version);
  if (!target || target.main) {
    const why = target ? `${rollout.version} is main already` : `${rollout.version} is no longer deployed`;
    return abort(cx, rollout, [why], now, ROLLOUT_ACTOR);
  }
  const main = existing.find((v) => v.main)?.version;
  const evidence = await judgeStep(cx.env, cx.db, rollout, main, Math.max(cronMs, now.getTime()));
  // Evidence that cannot be read decides nothing: the rollout waits for the next look.
  if ("unavailable" in evidence) return { rollout, change: null };
  const action = decideRolloutTick(rollout, evidence, new Date(cronMs));
  if (action.kind === "wait") return { rollout, change: null };
  const judged = withResult(rollout, evidence, now);
  if (action.kind === "abort") return abort(cx, judged, action.reasons, now, ROLLOUT_ACTOR);
  if (action.kind === "advance") return advance(cx, judged, action.percent, now);
  if (!action.promote) return complete(cx, judged, now);
  return promote(cx, { read: rollout, passed: judged }, main, now);
}

/** The rollout with its current step's verdict recorded. */
function withResult(
  rollout: RolloutRow,
  { verdict, reasons }: Pick<RolloutStepResult, "verdict" | "reasons">,
  now: Date,
): RolloutRow {
  const result: RolloutStepResult = {
    percent: rollout.steps[rollout.step] ?? 0,
    verdict,
    reasons: [...reasons],
    at: now.toISOString(),
  };
  return { ...rollout, results: [...rollout.results, result] };
}

async function advance(cx: NameContext, passed: RolloutRow, percent: number, now: Date): Promise<RolloutChange> {
  const advanced = { ...passed, step: passed.step + 1, stepSince: now };
  const moved: RolloutChange = { rollout: advanced, change: "advanced" };
  await cx.db.batch([
    putRollout(cx.db, advanced),
    putCanary(cx.db, passed.name, passed.version, percent),
    auditStatement(cx.db, rolloutAudit(ROLLOUT_ACTOR, moved)),
  ]);
  return moved;
}

async function complete(cx: NameContext, passed: RolloutRow, now: Date): Promise<RolloutChange> {
  const completed = endRollout(passed, "completed", ["every step passed; main unchanged (promote: false)"], now);
  const done: RolloutChange = { rollout: completed, change: "completed" };
  await cx.db.batch([putRollout(cx.db, completed), auditStatement(cx.db, rolloutAudit(ROLLOUT_ACTOR, done))]);
  return done;
}

/** The last step passed: the promotion goes through the same gate as an assign, over the last hour. */
async function promote(
  cx: NameContext,
  { read, passed }: { read: RolloutRow; passed: RolloutRow },
  main: string | undefined,
  now: Date,
): Promise<RolloutChange> {
  const { name, version } = passed;
  const gate = await verdictOf(cx, name, main, version);
  try {
    decideGate(gate.evidence, name, version, { force: false, window: GATE_WINDOW.label });
  } catch (error) {
    // Evidence that cannot be read decides nothing: the rollout, as read, waits for the next look.
    if (!(error instanceof AppError) || error.code !== "gate_failed") return { rollout: read, change: null };
    return abort(cx, passed, [error.message, ...(error.reasons ?? [])], now, ROLLOUT_ACTOR);
  }
  const promoted = endRollout(passed, "promoted", [`every step passed; ${version} is main`], now);
  const finished: RolloutChange = { rollout: promoted, change: "promoted" };
  // Audited as an assign by the rollout, beside the rollout's own row.
  const assigned = auditEntry(ROLLOUT_ACTOR, "assign", name, version, {
    from: main ?? null,
    verdict: gate.verdict?.verdict ?? "unavailable",
    reasons: gate.verdict?.reasons ?? [],
    force: false,
    rollout: true,
  });
  await setMain(
    cx.db,
    name,
    version,
    assigned,
    putRollout(cx.db, promoted),
    auditStatement(cx.db, rolloutAudit(ROLLOUT_ACTOR, finished)),
  );
  await notePromotion(cx.env, name, version);
  return finished;
}

/**
 * R2 between two crons: the ledger asks when evidence of `version` arrives (see RolloutWatch).
 * A running rollout of it whose step now fails is aborted at once; anything else waits for
 * the cron, which alone advances steps. Answers whether a rollout of the version still runs.
 */
export async function watchRollout(
  cx: NameContext,
  name: string,
  version: string,
): Promise<{ running: boolean; change?: RolloutChange }> {
  const rollout = await readRollout(cx.db, name);
  if (rollout?.state !== "running" || rollout.version !== version) return { running: false };
  const main = (await listServices(cx.db, name)).find((v) => v.main)?.version;
  const now = new Date();
  const judged = await judgeStep(cx.env, cx.db, rollout, main, now.getTime());
  if ("unavailable" in judged || judged.verdict !== "fail") return { running: true };
  const action = decideRolloutTick(rollout, judged, now);
  if (action.kind !== "abort") return { running: true };
  const change = await abort(cx, withResult(rollout, judged, now), action.reasons, now, ROLLOUT_ACTOR);
  return { running: false, change };
}

async function abort(
  cx: NameContext,
  rollout: RolloutRow,
  reasons: string[],
  now: Date,
  actor: Actor,
): Promise<RolloutChange> {
  const aborted = endRollout(rollout, "aborted", reasons, now);
  const ended: RolloutChange = { rollout: aborted, change: "aborted" };
  await cx.db.batch([
    putRollout(cx.db, aborted),
    putCanary(cx.db, rollout.name, rollout.version, 0),
    auditStatement(cx.db, rolloutAudit(actor, ended)),
  ]);
  return ended;
}

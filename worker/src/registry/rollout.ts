import { AppError } from "../errors.ts";
import type { CurrentStep, RolloutRow, RolloutStepResult, RolloutView } from "./rollout-records.ts";
import { findVersion, type GateEvidence, type VersionState } from "./rules.ts";

/** What a rollout asks for, as the admin API validated it. */
export interface RolloutSpec {
  steps: number[];
  stepMinutes: number;
  promote: boolean;
  /** Start even when the gate refuses (a failing verdict, or evidence that cannot be read). */
  force?: boolean;
}

/**
 * R1: a rollout is of a shadow that exists (404), never of main (422: main
 * already answers everything), and one at a time per name (409).
 */
export function decideRolloutStart(
  existing: readonly VersionState[],
  current: RolloutRow | undefined,
  name: string,
  version: string,
): void {
  const target = findVersion(existing, name, version);
  if (target.main) {
    throw new AppError(
      422,
      "invalid_field",
      `${name} ${version} is main: roll out a shadow, which main's answers are compared with`,
      "version",
    );
  }
  if (current?.state === "running") {
    throw new AppError(
      409,
      "rollout_running",
      `${name} already has a rollout of ${current.version} running; abort it first (\`rollout abort ${name}\`)`,
    );
  }
}

/** What the cron does with a running rollout, given the verdict over its current step. */
type RolloutAction =
  | { kind: "wait" }
  | { kind: "abort"; reasons: string[] }
  | { kind: "advance"; percent: number }
  | { kind: "finish"; promote: boolean };

/**
 * R2: a `fail` aborts at once, whenever it is seen. Once the step has lasted
 * `stepMinutes`, a `pass` over it moves to the next step, or finishes after
 * the last; an `inconclusive` step waits for more evidence (its clock keeps
 * running, so the next look may decide).
 */
export function decideRolloutTick(
  rollout: Pick<RolloutRow, "steps" | "step" | "stepSince" | "stepMinutes" | "promote">,
  verdict: { verdict: RolloutStepResult["verdict"]; reasons: readonly string[] },
  now: Date,
): RolloutAction {
  const percent = rollout.steps[rollout.step] ?? 0;
  if (verdict.verdict === "fail") {
    return { kind: "abort", reasons: [`the verdict at ${percent} % is fail`, ...verdict.reasons] };
  }
  const elapsed = now.getTime() - rollout.stepSince.getTime();
  if (elapsed < rollout.stepMinutes * 60_000 || verdict.verdict !== "pass") return { kind: "wait" };
  const next = rollout.steps[rollout.step + 1];
  if (next !== undefined) return { kind: "advance", percent: next };
  return { kind: "finish", promote: rollout.promote };
}

/**
 * The evidence a step is judged on. The ledger keeps evidence by the minute,
 * so only whole minutes can be told apart. A `pass` is judged on the minutes
 * that began after the step did (`pass`), so that no evidence from before the
 * step can pass it. A `fail` is also looked for from the minute the step began
 * in (`fail`): that minute holds up to 59 s of the same version's evidence
 * from just before, which can only stop users sooner, and it lets a step that
 * went bad in its first minute be aborted within seconds, not minutes.
 */
export function stepWindows(
  rollout: Pick<RolloutRow, "stepSince">,
  toMs: number,
): { fail: { from: number; to: number }; pass: { from: number; to: number } } {
  const began = rollout.stepSince.getTime();
  const to = toMs + 1;
  return {
    fail: { from: Math.floor(began / 60_000) * 60_000, to },
    pass: { from: Math.ceil(began / 60_000) * 60_000, to },
  };
}

/** What a step's judge read: the verdict over each of its windows (see `stepWindows`). */
export interface StepEvidence {
  /** Over the step's minutes and the one it began in. */
  fail: { verdict: RolloutStepResult["verdict"]; reasons: readonly string[] };
  /** Over the whole minutes since the step began; absent while the first has not begun. */
  pass?: { verdict: RolloutStepResult["verdict"]; reasons: readonly string[]; canaryAnswered: number };
}

/**
 * R2's verdict of a step: `fail` when either window fails; `pass` only when
 * the step's own minutes pass and hold at least `minRequests` requests the
 * canary answered (users were on it, not only copies); else `inconclusive`,
 * saying what it waits for.
 */
export function decideStepVerdict(
  evidence: StepEvidence,
  minRequests: number,
  windows: ReturnType<typeof stepWindows>,
): { verdict: RolloutStepResult["verdict"]; reasons: string[]; since: number } {
  const { fail, pass } = evidence;
  const passFrom = windows.pass.from;
  const at = new Date(passFrom).toISOString().slice(11, 16);
  if (fail.verdict === "fail") return { verdict: "fail", reasons: [...fail.reasons], since: windows.fail.from };
  if (!pass) {
    return {
      verdict: "inconclusive",
      reasons: [`the step's evidence starts with its first whole minute, at ${at} UTC`],
      since: passFrom,
    };
  }
  if (pass.verdict !== "pass") return { verdict: pass.verdict, reasons: [...pass.reasons], since: passFrom };
  if (pass.canaryAnswered < minRequests) {
    return {
      verdict: "inconclusive",
      reasons: [
        `${pass.canaryAnswered} requests answered by the canary since ${at} UTC, fewer than the ${minRequests} a step needs`,
      ],
      since: passFrom,
    };
  }
  return { verdict: "pass", reasons: [...pass.reasons], since: passFrom };
}

/**
 * R0, the gate a rollout starts through: the version's verdict over the gate's
 * window, read as `assign` reads it. A `fail` is refused (409 `gate_failed`,
 * with the reasons), and so is evidence that cannot be read (409
 * `evidence_unavailable`: the gate fails closed); `force` starts it anyway,
 * with a warning. `inconclusive` starts: the steps judge what the shadow could not show.
 */
export function decideRolloutGate(
  evidence: GateEvidence,
  name: string,
  version: string,
  options: { force: boolean; window: string },
): { warning?: string } {
  const subject = `${name} ${version} (last ${options.window})`;
  if ("unavailable" in evidence) {
    const why = `The evidence for ${subject} could not be read (${evidence.unavailable})`;
    if (options.force) return { warning: `${why}; the rollout started unchecked (forced)` };
    throw new AppError(
      409,
      "evidence_unavailable",
      `${why}, so the gate cannot judge it before users are sent to it. ` +
        "Try again shortly, or force the rollout (force: true) to start it unchecked",
    );
  }
  if (evidence.verdict !== "fail") return {};
  if (options.force) return { warning: `${subject} fails the gate; the rollout started anyway (forced)` };
  throw new AppError(
    409,
    "gate_failed",
    `${subject} fails the gate, so no user is sent to it (the reasons are in error.reasons). ` +
      "Fix the shadow, ignore noisy paths in the name's policy, or force the rollout (force: true)",
    undefined,
    { reasons: [...evidence.reasons] },
  );
}

/** What the rollout waits for next, in words for the API, the CLI and the dashboard. */
export function nextAction(rollout: RolloutRow, now: Date): string {
  if (rollout.state !== "running") return "none";
  const percent = rollout.steps[rollout.step] ?? 0;
  const next = rollout.steps[rollout.step + 1];
  const dueMs = rollout.stepSince.getTime() + rollout.stepMinutes * 60_000 - now.getTime();
  const then =
    next !== undefined
      ? `raise the canary to ${next} %`
      : rollout.promote
        ? `promote ${rollout.version} to main`
        : "finish, leaving the canary where it is";
  const when = dueMs > 0 ? `in ${Math.ceil(dueMs / 60_000)} min at the earliest` : "at the next cron run";
  return `${then} ${when}, once the verdict at ${percent} % is pass; abort at once on fail`;
}

/** A rollout as the admin API shows it; `current` is the verdict over its current step, while it runs. */
export function toRolloutView(rollout: RolloutRow, now: Date, current: CurrentStep | null): RolloutView {
  return {
    name: rollout.name,
    version: rollout.version,
    state: rollout.state,
    steps: rollout.steps,
    stepMinutes: rollout.stepMinutes,
    promote: rollout.promote,
    step: rollout.step,
    percent: rollout.state === "running" ? (rollout.steps[rollout.step] ?? 0) : 0,
    since: rollout.stepSince.toISOString(),
    stepEndsAt: new Date(rollout.stepSince.getTime() + rollout.stepMinutes * 60_000).toISOString(),
    startedAt: rollout.startedAt.toISOString(),
    endedAt: rollout.endedAt?.toISOString() ?? null,
    results: rollout.results,
    current: rollout.state === "running" ? current : null,
    reasons: rollout.reasons,
    nextAction: nextAction(rollout, now),
  };
}

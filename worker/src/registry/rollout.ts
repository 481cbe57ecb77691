import type { CurrentStep, RolloutView } from "../api/schemas.ts";
import type { RolloutRow, RolloutStepResult } from "../db/schema.ts";
import { AppError } from "../errors.ts";
import { findVersion, type VersionState } from "./rules.ts";

/** What a rollout asks for, as the admin API validated it. */
export interface RolloutSpec {
  steps: number[];
  stepMinutes: number;
  promote: boolean;
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
export type RolloutAction =
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
 * The evidence a step is judged on: evidence is kept by the minute, so the
 * window starts with the minute the step started in, and ends at `toMs`.
 */
export function stepWindow(rollout: Pick<RolloutRow, "stepSince">, toMs: number): { from: number; to: number } {
  return { from: Math.floor(rollout.stepSince.getTime() / 60_000) * 60_000, to: toMs + 1 };
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

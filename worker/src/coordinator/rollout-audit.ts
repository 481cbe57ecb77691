import type { AuditEntry } from "../db/queries.ts";
import type { ShadowReport } from "../evidence/verdict.ts";
import type { Actor } from "../registry/records.ts";
import type { RolloutChange, RolloutRow } from "../registry/rollout-records.ts";

export type { RolloutChange } from "../registry/rollout-records.ts";

/** A rollout that ended, and why. */
export function endRollout(
  rollout: RolloutRow,
  state: "promoted" | "completed" | "aborted",
  reasons: string[],
  now: Date,
) {
  return { ...rollout, state, reasons, endedAt: now };
}

/** The gateway moves rollouts by itself (the cron, the watch between crons): its audit rows name it. */
export const ROLLOUT_ACTOR: Actor = "rollout";

/** One rollout transition as an audit row. */
export function rolloutAudit(actor: Actor, { rollout, change: what }: RolloutChange): AuditEntry {
  return {
    at: new Date(),
    actor,
    action: "rollout",
    name: rollout.name,
    version: rollout.version,
    detail: {
      change: what,
      step: rollout.step,
      percent: rollout.steps[rollout.step] ?? 0,
      steps: rollout.steps,
      ...(rollout.results.length > 0 && { verdict: rollout.results.at(-1)?.verdict }),
      ...(rollout.reasons.length > 0 && { reasons: rollout.reasons }),
    },
  };
}

/**
 * A start's audit row also keeps the gate it went through: the verdict (`unavailable` when it
 * could not be read), `force`, and the reasons of any verdict but pass, as a forced assign keeps them.
 */
export function startAudit(
  actor: Actor,
  started: RolloutChange,
  verdict: ShadowReport | null,
  force: boolean,
): AuditEntry {
  const audit = rolloutAudit(actor, started);
  audit.detail = {
    ...audit.detail,
    gate: verdict?.verdict ?? "unavailable",
    force,
    ...(verdict && verdict.verdict !== "pass" && { gateReasons: [...verdict.reasons] }),
    ...(started.warning !== undefined && { warning: started.warning }),
  };
  return audit;
}

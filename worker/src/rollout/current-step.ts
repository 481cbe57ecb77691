import { judgeStep } from "../coordinator/step-verdict.ts";
import { type Database, listServices } from "../db/queries.ts";
import type { RolloutRow } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { toRolloutView } from "../registry/rollout.ts";
import type { CurrentStep, RolloutView } from "../registry/rollout-records.ts";

/**
 * The verdict over a running rollout's current step, judged as the cron's next
 * look would judge it (same windows, same ledger reads, same policy), so an
 * operator sees a fail coming before the cron aborts on it.
 */
async function currentStep(env: Env, db: Database, rollout: RolloutRow, now: Date): Promise<CurrentStep | null> {
  if (rollout.state !== "running") return null;
  const main = (await listServices(db, rollout.name)).find((v) => v.main)?.version;
  const judged = await judgeStep(env, db, rollout, main, now.getTime());
  return {
    percent: rollout.steps[rollout.step] ?? 0,
    ...("unavailable" in judged
      ? { verdict: null, reasons: [`the evidence could not be read: ${judged.unavailable}`] }
      : { verdict: judged.verdict, reasons: judged.reasons }),
    since: new Date(judged.since).toISOString(),
    at: now.toISOString(),
  };
}

/** A rollout as the admin API shows it, with the verdict over its current step while it runs. */
export async function rolloutView(env: Env, db: Database, rollout: RolloutRow, now: Date): Promise<RolloutView> {
  return toRolloutView(rollout, now, await currentStep(env, db, rollout, now));
}

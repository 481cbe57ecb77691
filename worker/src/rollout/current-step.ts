import type { CurrentStep, RolloutView } from "../api/schemas.ts";
import { readVerdict } from "../coordinator/verdict-read.ts";
import { type Database, listServices } from "../db/queries.ts";
import type { RolloutRow } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { stepWindow, toRolloutView } from "../registry/rollout.ts";

/**
 * The verdict over a running rollout's current step, judged as the cron's next
 * look would judge it (same window, same ledger read, same policy), so an
 * operator sees a fail coming before the cron aborts on it. One ledger read.
 */
export async function currentStep(env: Env, db: Database, rollout: RolloutRow, now: Date): Promise<CurrentStep | null> {
  if (rollout.state !== "running") return null;
  const main = (await listServices(db, rollout.name)).find((v) => v.main)?.version;
  const window = stepWindow(rollout, now.getTime());
  const { evidence } = await readVerdict(env, db, rollout.name, main, rollout.version, window);
  const judged =
    "unavailable" in evidence
      ? { verdict: null, reasons: [`the evidence could not be read: ${evidence.unavailable}`] }
      : { verdict: evidence.verdict, reasons: [...evidence.reasons] };
  return {
    percent: rollout.steps[rollout.step] ?? 0,
    ...judged,
    since: new Date(window.from).toISOString(),
    at: now.toISOString(),
  };
}

/** A rollout as the admin API shows it, with the verdict over its current step while it runs. */
export async function rolloutView(env: Env, db: Database, rollout: RolloutRow, now: Date): Promise<RolloutView> {
  return toRolloutView(rollout, now, await currentStep(env, db, rollout, now));
}

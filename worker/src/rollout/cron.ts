import { listRunningRollouts, openDatabase } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { reasonOf } from "../errors.ts";
import { announceRolloutChange } from "../notify/rollout-announce.ts";

/**
 * The cron's rollout pass: each running rollout's coordinator looks at the
 * verdict over its current step and advances, finishes or aborts it (see
 * `decideRolloutTick`). Names are looked at side by side, each telling its own
 * webhook of its own change, so a receiver that hangs (retried for up to about
 * 24 s) delays no other name. A name that fails is logged; the others still move.
 */
export async function advanceRollouts(env: Env, now: Date): Promise<void> {
  let running: { name: string }[];
  try {
    running = await listRunningRollouts(openDatabase(env.DB));
  } catch (error) {
    console.error(JSON.stringify({ event: "rollout_pass_failed", reason: reasonOf(error) }));
    return;
  }
  await Promise.all(running.map(({ name }) => advanceRollout(env, name, now)));
}

async function advanceRollout(env: Env, name: string, now: Date): Promise<void> {
  try {
    const outcome = await env.SERVICE_COORDINATOR.getByName(name).tickRollout(name, now.getTime());
    if (!outcome.ok) throw new Error(outcome.body.error.message);
    if (outcome.value?.change) await announceRolloutChange(env, name, outcome.value);
  } catch (error) {
    console.error(JSON.stringify({ event: "rollout_tick_failed", name, reason: reasonOf(error) }));
  }
}

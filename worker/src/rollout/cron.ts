import { listRunningRollouts, openDatabase } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { reasonOf } from "../errors.ts";
import { rolloutEvent } from "../notify/events.ts";
import { notifyName } from "../notify/send.ts";

/**
 * The cron's rollout pass: each running rollout's coordinator looks at the
 * verdict over its current step and advances, finishes or aborts it (see
 * `decideRolloutTick`). A name that fails is logged; the others still move.
 */
export async function advanceRollouts(env: Env, now: Date): Promise<void> {
  let running: { name: string }[];
  try {
    running = await listRunningRollouts(openDatabase(env.DB));
  } catch (error) {
    console.error(JSON.stringify({ event: "rollout_pass_failed", reason: reasonOf(error) }));
    return;
  }
  for (const { name } of running) {
    try {
      const outcome = await env.SERVICE_COORDINATOR.getByName(name).tickRollout(name, now.getTime());
      if (!outcome.ok) throw new Error(outcome.body.error.message);
      if (outcome.value?.change) {
        const { rollout, change } = outcome.value;
        console.log(JSON.stringify({ event: "rollout", name, version: rollout.version, change, step: rollout.step }));
        await notifyName(env, name, [rolloutEvent(outcome.value, new Date())]);
      }
    } catch (error) {
      console.error(JSON.stringify({ event: "rollout_tick_failed", name, reason: reasonOf(error) }));
    }
  }
}

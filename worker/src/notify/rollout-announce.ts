import type { Env } from "../env.ts";
import type { RolloutChange } from "../registry/rollout-records.ts";
import { rolloutEvent } from "./events.ts";
import { notifyName } from "./send.ts";

/** A rollout moved by the gateway itself (the cron, or the watch between crons): logged and notified. */
export async function announceRolloutChange(env: Env, name: string, change: RolloutChange): Promise<void> {
  const { rollout } = change;
  console.log(
    JSON.stringify({ event: "rollout", name, version: rollout.version, change: change.change, step: rollout.step }),
  );
  await notifyName(env, name, [rolloutEvent(change, new Date())]);
}

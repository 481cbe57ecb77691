import type { Env } from "../env.ts";
import { announceRolloutChange } from "./cron.ts";

/**
 * Asks the name's coordinator to judge `version`'s running rollout now (it
 * aborts a step that fails; see `ServiceCoordinator.watchRollout`), and tells
 * the name's notification target of an abort. Called by the ledger, between
 * crons; answers whether a rollout of the version is still running.
 */
export async function watchRollout(env: Env, name: string, version: string): Promise<boolean> {
  const outcome = await env.SERVICE_COORDINATOR.getByName(name).watchRollout(name, version);
  if (!outcome.ok) throw new Error(outcome.body.error.message);
  const { running, change } = outcome.value;
  if (change) await announceRolloutChange(env, name, change);
  return running;
}

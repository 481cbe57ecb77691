import type { Database } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { reasonOf } from "../errors.ts";
import { callLedger } from "../evidence/ledger-call.ts";
import { GATE_WINDOW } from "../registry/rules.ts";
import { readVerdict } from "./verdict-read.ts";

// What a change of a name asks of its evidence ledger.

/** The target's shadow report over a window (the gate's last hour unless given), or why it could not be read. */
export function verdictOf(
  { env, db }: { env: Env; db: Database },
  name: string,
  main: string | undefined,
  version: string,
  window?: { from: number; to: number },
) {
  const to = Date.now();
  return readVerdict(env, db, name, main, version, window ?? { from: to - GATE_WINDOW.ms, to });
}

/**
 * Best effort, after D1: the ledger starts the new main's baseline now. A
 * ledger that missed it (logged) starts it at the first copy compared with it.
 */
export async function notePromotion(env: Env, name: string, main: string): Promise<void> {
  try {
    const at = Date.now();
    await callLedger(env, name, (ledger) => ledger.promoted(main, at));
  } catch (error) {
    console.error(JSON.stringify({ event: "ledger_promotion_failed", name, main, message: reasonOf(error) }));
  }
}

/**
 * Best effort, after D1: the name is gone either way. A ledger that could not be
 * destroyed (logged) shows its old minutes to a name deployed again, until they age out.
 */
export async function destroyEvidence(env: Env, name: string): Promise<void> {
  try {
    await callLedger(env, name, (ledger, shards) => ledger.destroy({ name, shards }));
  } catch (error) {
    console.error(JSON.stringify({ event: "ledger_destroy_failed", name, message: reasonOf(error) }));
  }
}

/**
 * Best effort, after D1, as for a name: the version is gone either way. Evidence
 * that could not be forgotten (logged) would be judged again if the same
 * version were deployed within the ledger's retention.
 */
export async function forgetEvidence(env: Env, name: string, version: string): Promise<void> {
  try {
    await callLedger(env, name, (ledger, shards) => ledger.forget(version, { name, shards }));
  } catch (error) {
    console.error(JSON.stringify({ event: "ledger_forget_failed", name, version, message: reasonOf(error) }));
  }
}

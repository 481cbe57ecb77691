import { type Database, readPolicy } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { reasonOf } from "../errors.ts";
import { callLedger } from "../evidence/ledger-call.ts";
import type { ShadowReport } from "../evidence/verdict.ts";
import type { GateEvidence } from "../registry/rules.ts";

/**
 * One version's shadow report over a window, read from its name's ledger with
 * the name's policy, or why it could not be read. The gate, the rollout cron
 * and the rollout view all judge through here, so they cannot disagree.
 */
export async function readVerdict(
  env: Env,
  db: Database,
  name: string,
  main: string | undefined,
  version: string,
  window: { from: number; to: number },
): Promise<{ verdict: ShadowReport | null; evidence: GateEvidence }> {
  const policy = await readPolicy(db, name);
  try {
    const report = await callLedger(env, name, (ledger, shards) =>
      ledger.report({ name, ...window, main: main ?? "", shadows: [version], policy, shards }),
    );
    const verdict = report.shadows.find((shadow) => shadow.version === version);
    if (!verdict) return { verdict: null, evidence: { unavailable: "the ledger reported no entry for it" } };
    return { verdict, evidence: verdict };
  } catch (error) {
    console.error(JSON.stringify({ event: "gate_evidence_unavailable", name, version, message: reasonOf(error) }));
    return { verdict: null, evidence: { unavailable: reasonOf(error) } };
  }
}

import { type Database, readPolicy } from "../db/queries.ts";
import type { RolloutRow, RolloutStepResult } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { decideStepVerdict, type StepEvidence, stepWindows } from "../registry/rollout.ts";
import { readVerdict } from "./verdict-read.ts";

/** A running step's verdict so far, and where its evidence starts; or why the evidence could not be read. */
type StepJudgement =
  | { verdict: RolloutStepResult["verdict"]; reasons: string[]; since: number }
  | { unavailable: string; since: number };

/**
 * The verdict over a running rollout's current step at `toMs` (R2, see
 * `stepWindows` and `decideStepVerdict`). The cron, the coordinator's watch
 * between crons and the rollout view all judge through here, so they agree.
 * One ledger read, two when the step began inside a minute that has ended.
 */
export async function judgeStep(
  env: Env,
  db: Database,
  rollout: Pick<RolloutRow, "name" | "version" | "stepSince">,
  main: string | undefined,
  toMs: number,
): Promise<StepJudgement> {
  const windows = stepWindows(rollout, toMs);
  const read = (window: { from: number; to: number }) =>
    readVerdict(env, db, rollout.name, main, rollout.version, window);
  const wide = await read(windows.fail);
  if ("unavailable" in wide.evidence) return { unavailable: wide.evidence.unavailable, since: windows.fail.from };
  const evidence: StepEvidence = { fail: wide.evidence };
  if (windows.pass.from <= toMs) {
    const own = windows.pass.from === windows.fail.from ? wide : await read(windows.pass);
    if ("unavailable" in own.evidence) return { unavailable: own.evidence.unavailable, since: windows.pass.from };
    evidence.pass = { ...own.evidence, canaryAnswered: own.verdict?.requests.canary ?? 0 };
  }
  const { gate } = await readPolicy(db, rollout.name);
  return decideStepVerdict(evidence, gate.minRequests, windows);
}

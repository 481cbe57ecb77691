import { auditStatement, openDatabase } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { reasonOf } from "../errors.ts";
import type { NotifyEvent } from "../notify/deliver.ts";
import { notifyName } from "../notify/send.ts";
import type { Actor } from "../registry/records.ts";
import type { ReplayRecord } from "./record.ts";
import { type ReplayView, replayView } from "./view.ts";

/** The `replay` event of a replay's change: started, done or stopped. */
function replayEvent(view: ReplayView, at: Date): NotifyEvent {
  const subject = `replay ${view.id} of ${view.name} to ${view.version}`;
  const text = {
    running: `${subject} started: ${view.total} captured requests at ${view.rate} a second`,
    done: `${subject} done: ${view.sent} sent, verdict ${view.verdict.outcome}`,
    stopped: `${subject} stopped after ${view.sent} of ${view.total}${view.stoppedBecause ? ` (${view.stoppedBecause})` : ""}`,
  }[view.state];
  return {
    event: "replay",
    service: view.name,
    version: view.version,
    verdict: view.state === "running" ? null : view.verdict.outcome,
    reasons: view.state === "running" ? [] : view.verdict.reasons,
    at: at.toISOString(),
    text,
  };
}

/** Appends the change to the audit trail and tells the name's notification target; never throws. */
export async function auditReplay(env: Env, view: ReplayView, actor: Actor): Promise<void> {
  const at = new Date();
  try {
    const detail = {
      change: view.state === "running" ? "started" : view.state,
      id: view.id,
      from: view.from,
      to: view.to,
      rate: view.rate,
      sent: view.sent,
      total: view.total,
      ...(view.state !== "running" && { verdict: view.verdict.outcome, reasons: view.verdict.reasons }),
    };
    await auditStatement(openDatabase(env.DB), {
      at,
      actor,
      action: "replay",
      name: view.name,
      version: view.version,
      detail,
    });
  } catch (error) {
    console.error(JSON.stringify({ event: "replay_audit_failed", replay: view.id, reason: reasonOf(error) }));
  }
  await notifyName(env, view.name, [replayEvent(view, at)]);
}

/** A replay that ended by itself (done, or its version went): audited as its starter's, and notified. */
export async function finishReplay(env: Env, record: ReplayRecord): Promise<void> {
  try {
    await auditReplay(env, await replayView(env, record), record.actor);
  } catch (error) {
    console.error(JSON.stringify({ event: "replay_finish_failed", replay: record.id, reason: reasonOf(error) }));
  }
}

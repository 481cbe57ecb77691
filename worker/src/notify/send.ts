import { listNotifyTargets, listServices, openDatabase, readPolicy } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { reasonOf } from "../errors.ts";
import { callLedger } from "../evidence/ledger-call.ts";
import { GATE_WINDOW } from "../registry/rules.ts";
import type { NotifyEvent } from "./deliver.ts";
import { notify, verdictEvent } from "./events.ts";
import type { NotifyTarget } from "./target.ts";

/**
 * Delivers a name's events to its target (read from its policy unless given)
 * and counts the outcome in the name's coordinator. Meant for `waitUntil`:
 * it never throws, and nothing a client waits for waits on it.
 */
export async function notifyName(
  env: Env,
  name: string,
  events: readonly (NotifyEvent | undefined)[],
  target?: NotifyTarget | null,
): Promise<void> {
  try {
    const to = target === undefined ? (await readPolicy(openDatabase(env.DB), name)).notify : target;
    const results = await notify(to, events);
    if (results.length === 0) return;
    const delivered = results.filter((r) => r.delivered).length;
    await env.SERVICE_COORDINATOR.getByName(name).countNotifications(delivered, results.length - delivered);
  } catch (error) {
    console.error(JSON.stringify({ event: "notify_failed", service: name, reason: reasonOf(error) }));
  }
}

/**
 * The cron's look at every name that wants `verdict` events: each shadow's
 * verdict over the last hour, compared with the one its coordinator
 * remembers; a change is notified once. A name that cannot be read is logged
 * and the others are still looked at.
 */
export async function watchVerdicts(env: Env, now: Date): Promise<void> {
  const db = openDatabase(env.DB);
  const targets = [...(await listNotifyTargets(db))].filter(([, target]) => target.events.includes("verdict"));
  if (targets.length === 0) return;
  const services = await listServices(db);
  await Promise.all(
    targets.map(async ([name, target]) => {
      try {
        const versions = services.filter((s) => s.name === name);
        const shadows = versions.filter((v) => !v.main).map((v) => v.version);
        if (shadows.length === 0) return;
        const main = versions.find((v) => v.main)?.version ?? "";
        const policy = await readPolicy(db, name);
        const to = now.getTime();
        const report = await callLedger(env, name, (ledger, shards) =>
          ledger.report({ name, from: to - GATE_WINDOW.ms, to, main, shadows, policy, shards }),
        );
        const changes = await env.SERVICE_COORDINATOR.getByName(name).noteVerdicts(
          report.shadows.map(({ version, verdict }) => ({ version, verdict })),
        );
        const reasonsOf = new Map(report.shadows.map((s) => [s.version, s.reasons]));
        const events = changes.map((change) =>
          verdictEvent(name, change.version, { ...change, reasons: reasonsOf.get(change.version) ?? [] }, now),
        );
        await notifyName(env, name, events, target);
      } catch (error) {
        console.error(JSON.stringify({ event: "verdict_watch_failed", service: name, reason: reasonOf(error) }));
      }
    }),
  );
}

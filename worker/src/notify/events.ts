import type { Verdict } from "../evidence/verdict.ts";
import type { ServiceRecord } from "../registry/records.ts";
import type { RolloutChange } from "../registry/rollout-records.ts";
import { type DeliveryResult, deliver, type NotifyEvent } from "./deliver.ts";
import type { NotifyTarget } from "./target.ts";

/** What an assign did, as far as its event tells: the coordinator's AssignResult is one. */
interface AssignTold {
  changed: boolean;
  services: readonly Pick<ServiceRecord, "version" | "main">[];
  verdict: { verdict: Verdict; reasons: string[] } | null;
  warning?: string;
}

/** A version's verdict changed over the last hour, as the cron found it. */
export function verdictEvent(
  service: string,
  version: string,
  change: { from: Verdict; to: Verdict; reasons: string[] },
  at: Date,
): NotifyEvent {
  const why = change.reasons[0] ? `: ${change.reasons[0]}` : "";
  return {
    event: "verdict",
    service,
    version,
    verdict: change.to,
    reasons: change.reasons,
    at: at.toISOString(),
    text: `${service} ${version} is now ${change.to} (was ${change.from}) over the last hour${why}`,
  };
}

/** Main changed; the event carries the verdict the promotion gate decided on, and its warning. */
export function assignEvent(service: string, result: AssignTold, at: Date): NotifyEvent | undefined {
  const main = result.services.find((s) => s.main);
  if (!result.changed || !main) return undefined;
  const verdict = result.verdict?.verdict ?? null;
  const warning = result.warning ? ` (${result.warning})` : "";
  return {
    event: "assign",
    service,
    version: main.version,
    verdict,
    reasons: result.verdict?.reasons ?? [],
    at: at.toISOString(),
    text: `${service} ${main.version} is now main, verdict ${verdict ?? "unknown"} over the last hour${warning}`,
  };
}

/** One event per killed version. */
export const killEvents = (killed: readonly ServiceRecord[], at: Date): NotifyEvent[] =>
  killed.map((record) => ({
    event: "kill",
    service: record.name,
    version: record.version,
    verdict: null,
    reasons: [],
    at: at.toISOString(),
    text: `${record.name} ${record.version} was killed${record.main ? " (it was main)" : ""}`,
  }));

/** A rollout started, advanced or ended; the verdict is that of the step just decided, if one was. */
export function rolloutEvent({ rollout, change }: RolloutChange, at: Date): NotifyEvent | undefined {
  if (change === null) return undefined;
  const last = rollout.results.at(-1);
  const percent = rollout.steps[rollout.step] ?? 0;
  const why = rollout.reasons[0] ? `: ${rollout.reasons[0]}` : "";
  const text = {
    started: `rollout of ${rollout.name} ${rollout.version} started at ${percent} % (steps ${rollout.steps.join(", ")} %)`,
    advanced: `rollout of ${rollout.name} ${rollout.version} passed a step and is now at ${percent} %`,
    aborted: `rollout of ${rollout.name} ${rollout.version} aborted, canary back to 0${why}`,
    promoted: `rollout of ${rollout.name} ${rollout.version} promoted it to main${why}`,
    completed: `rollout of ${rollout.name} ${rollout.version} completed at ${percent} %${why}`,
  }[change];
  return {
    event: "rollout",
    service: rollout.name,
    version: rollout.version,
    verdict: change === "started" ? null : (last?.verdict ?? null),
    reasons: change === "advanced" ? (last?.reasons ?? []) : rollout.reasons,
    at: at.toISOString(),
    text,
  };
}

/** Sends the events the target asked for, one at a time so that they arrive in order. */
export async function notify(
  target: NotifyTarget | null,
  events: readonly (NotifyEvent | undefined)[],
  send: typeof deliver = deliver,
): Promise<DeliveryResult[]> {
  const results: DeliveryResult[] = [];
  if (!target) return results;
  for (const event of events) {
    if (event && target.events.includes(event.event)) results.push(await send(target, event));
  }
  return results;
}

import type { Verdict } from "../evidence/verdict.ts";

/** A version's verdict moved between two looks of the cron. */
export interface VerdictChange {
  version: string;
  from: Verdict;
  to: Verdict;
}

/** Notifications of this name that reached their receiver, and those given up on. */
export interface NotificationCounts {
  delivered: number;
  failed: number;
}

const LAST_VERDICT = "verdict:";
const NOTIFICATIONS = "notifications";

/**
 * Remembers each version's latest conclusive verdict (durably, in the coordinator's
 * storage) and answers those that changed since, so that a verdict that holds for an
 * hour is told once, not every minute. Inconclusive looks change nothing: a sliding
 * window near `minRequests` would otherwise flap pass, inconclusive, pass and tell
 * each step. A version's first pass or fail is a change from inconclusive.
 */
export function noteVerdicts(kv: SyncKvStorage, verdicts: { version: string; verdict: Verdict }[]): VerdictChange[] {
  const changes: VerdictChange[] = [];
  for (const { version, verdict } of verdicts) {
    if (verdict === "inconclusive") continue;
    const from = kv.get<Verdict>(`${LAST_VERDICT}${version}`) ?? "inconclusive";
    if (from === verdict) continue;
    changes.push({ version, from, to: verdict });
    kv.put(`${LAST_VERDICT}${version}`, verdict);
  }
  return changes;
}

/** A killed version deployed again starts with no remembered verdict, as it starts with no evidence. */
export function forgetVerdicts(kv: SyncKvStorage, killed: readonly { version: string }[]): void {
  for (const { version } of killed) kv.delete(`${LAST_VERDICT}${version}`);
}

export function countNotifications(kv: SyncKvStorage, delivered: number, failed: number): NotificationCounts {
  const counts = notificationCounts(kv);
  const next = { delivered: counts.delivered + delivered, failed: counts.failed + failed };
  kv.put(NOTIFICATIONS, next);
  return next;
}

export function notificationCounts(kv: SyncKvStorage): NotificationCounts {
  return kv.get<NotificationCounts>(NOTIFICATIONS) ?? { delivered: 0, failed: 0 };
}

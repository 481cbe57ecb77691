import type { Env } from "../env.ts";
import { type ReplayRecord, type ReplayView, replayBaseline, replayLedgerName } from "./record.ts";

export type { ReplayView };

const MINUTE_MS = 60_000;

/** The report's input for a replay's evidence: the whole run, against its own baseline. */
function replayReportInput(record: ReplayRecord) {
  return {
    name: replayLedgerName(record.name, record.id),
    from: Math.floor(record.createdAt / MINUTE_MS) * MINUTE_MS,
    to: (record.endedAt ?? Date.now()) + MINUTE_MS,
    main: replayBaseline(record.id),
    shadows: [record.version],
    policy: record.policy,
  };
}

/** The replay's evidence as the report shows live evidence (`?baseline=replay:<id>`). */
export function replayReport(env: Env, record: ReplayRecord, series: boolean) {
  const ledger = env.EVIDENCE_LEDGER.getByName(replayLedgerName(record.name, record.id));
  const input = replayReportInput(record);
  return series ? ledger.reportWithSeries(input) : ledger.report(input);
}

/** The replay with its verdict, judged by the same judge as live evidence, from its own ledger. */
export async function replayView(env: Env, record: ReplayRecord): Promise<ReplayView> {
  const report = await replayReport(env, record, false);
  const shadow = report.shadows.find((s) => s.version === record.version);
  const outcome = shadow?.verdict ?? "inconclusive";
  const reasons = shadow?.reasons ?? ["no replayed request has been judged yet"];
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: record.id,
    name: record.name,
    version: record.version,
    state: record.state,
    sent: record.sent,
    total: record.total,
    from: new Date(record.from).toISOString(),
    to: new Date(record.to).toISOString(),
    rate: record.rate,
    methods: record.methods,
    verdict: { outcome, reasons },
    reasons,
    requests: {
      compared: shadow?.requests.compared ?? 0,
      different: shadow?.requests.different ?? 0,
      error: shadow?.requests.error ?? 0,
    },
    createdAt: new Date(record.createdAt).toISOString(),
    endedAt: iso(record.endedAt),
    stoppedBecause: record.stoppedBecause,
    baseline: replayBaseline(record.id),
  };
}

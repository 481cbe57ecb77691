import type { AuditRow } from "./client.ts";
import { escapeControls } from "./escape.ts";
import { formatLocalTimestamp, formatSimpleTable } from "./table.ts";

const HISTORY_HEADERS = ["AT", "ACTOR", "ACTION", "NAME", "VERSION", "DETAIL"] as const;

const list = (value: unknown) => (Array.isArray(value) ? value.map(String).join(", ") : "");

/** `advanced to step 2 of 3 (25 %), verdict pass`: a rollout's transition as a sentence, its reasons after. */
function rolloutChange(d: Record<string, unknown>): string {
  const steps = Array.isArray(d.steps) ? d.steps.length : 0;
  const step = typeof d.step === "number" ? d.step + 1 : 0;
  const where = steps > 0 ? ` step ${step} of ${steps} (${String(d.percent)} %)` : "";
  const verdict = typeof d.verdict === "string" ? `, verdict ${d.verdict}` : "";
  const reasons = list(d.reasons);
  switch (d.change) {
    case "started":
      return `started at${where}, steps ${list(d.steps)} %`;
    case "advanced":
      return `advanced to${where}${verdict}`;
    default:
      return `${String(d.change)} at${where}${verdict}${reasons ? `: ${reasons}` : ""}`;
  }
}

/** What a row changed, in a few words: enough to tell a forced promotion from a clean one. */
export function describeChange(row: AuditRow): string {
  const d = row.detail as Record<string, unknown>;
  switch (row.action) {
    case "deploy": {
      const stripped = list(d.stripHeaders);
      return `origin ${String(d.origin)}${d.main === true ? ", as main" : ""}${stripped ? `, copies without ${stripped}` : ""}`;
    }
    case "assign": {
      const from = d.from ? `from ${String(d.from)}, ` : "";
      const forced = d.force === true && d.verdict === "fail" ? ", FORCED over the failing gate" : "";
      return `${from}verdict ${String(d.verdict)}${forced}`;
    }
    case "kill":
      return `killed ${list(d.versions)}`;
    case "rollout":
      return rolloutChange(d);
    case "traffic":
    case "policy":
      return Object.entries(d)
        .map(([key, value]) => `${key} ${JSON.stringify(value)}`)
        .join(", ");
    default:
      return JSON.stringify(d);
  }
}

/** The trail as a table, newest first; names and details may come from anyone's input, so they are escaped. */
export function formatHistory(rows: readonly AuditRow[]): string {
  return formatSimpleTable(
    HISTORY_HEADERS,
    rows.map((row) =>
      [formatLocalTimestamp(row.at), row.actor, row.action, row.name, row.version ?? "-", describeChange(row)].map(
        escapeControls,
      ),
    ),
  );
}

import type { AuditRow } from "./client.ts";
import { escapeControls } from "./escape.ts";
import { formatLocalTimestamp, formatSimpleTable } from "./table.ts";

export const HISTORY_HEADERS = ["AT", "ACTOR", "ACTION", "NAME", "VERSION", "DETAIL"] as const;

const list = (value: unknown) => (Array.isArray(value) ? value.map(String).join(", ") : "");

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

import type { AuditRecord } from "./api.ts";
import { h, localTimestamp } from "./dom.ts";
import { describeRule, type FieldRule } from "./rules.ts";

const paths = (value: unknown) => (Array.isArray(value) ? value.map(String).join(", ") : JSON.stringify(value));
const rules = (value: unknown) =>
  Array.isArray(value) ? (value as FieldRule[]).map((rule) => `${rule.path}: ${describeRule(rule)}`).join("; ") : "";

/**
 * A policy change in words for the edits the page makes (ignore and rules, path by path); any other
 * field as it was sent.
 */
function describePolicy(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([key, value]) => {
      if (key === "ignoreAdd") return `ignores ${paths(value)}`;
      if (key === "ignoreRemove") return `counts ${paths(value)} again`;
      if (key === "rulesAdd") return rules(value);
      if (key === "rulesRemove") return `compares ${paths(value)} exactly again`;
      return `${key} ${JSON.stringify(value)}`;
    })
    .join(", ");
}

/** What one change did, in a few words; a promotion forced over a failing gate says so plainly. */
function describe(row: AuditRecord): string {
  const d = row.detail;
  switch (row.action) {
    case "deploy":
      return `deployed at ${String(d.origin)}${d.main === true ? " as main" : ""}`;
    case "assign": {
      const from = d.from ? ` (was ${String(d.from)})` : "";
      const forced = d.force === true && d.verdict === "fail" ? " — forced over a failing verdict" : "";
      return `made main${from}, verdict ${String(d.verdict)}${forced}`;
    }
    case "kill":
      return `killed ${Array.isArray(d.versions) ? d.versions.join(", ") : ""}`;
    case "policy":
      return describePolicy(d);
    default:
      return Object.entries(d)
        .map(([key, value]) => `${key} ${JSON.stringify(value)}`)
        .join(", ");
  }
}

/** A name's recent changes, newest first: who did what, and when. */
export function historyPanel(name: string, rows: readonly AuditRecord[] | undefined, error?: string): HTMLElement[] {
  const heading = h("h2", {}, `History of ${name}`);
  if (error) return [heading, h("p", { class: "message error" }, `History is not available: ${error}`)];
  if (!rows) return [heading, h("p", {}, "Loading…")];
  if (rows.length === 0) return [heading, h("p", { class: "empty" }, "No changes recorded.")];
  return [
    heading,
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        { class: "history" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["when", "who", "what", "version", ""].map((label) => h("th", { scope: "col" }, label)),
          ),
        ),
        h(
          "tbody",
          {},
          rows.map((row) =>
            h(
              "tr",
              { "data-action": row.action, "data-forced": row.detail.force === true && row.detail.verdict === "fail" },
              h("td", {}, localTimestamp(row.at)),
              h("td", {}, row.actor),
              h("td", {}, row.action),
              h("td", {}, row.version ?? "all"),
              h("td", {}, describe(row)),
            ),
          ),
        ),
      ),
    ),
  ];
}

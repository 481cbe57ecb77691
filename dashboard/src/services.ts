import type { ServiceRecord } from "./api.ts";
import { type Attention, attentionOf, namesByAttention, type RollingNames, type VerdictsByName } from "./attention.ts";
import { h, localTimestamp } from "./dom.ts";

const RUNNING_LABELS: Record<ServiceRecord["status"], string> = {
  running: "Running",
  unreachable: "Unreachable",
  unknown: "Unknown",
};

const ATTENTION_LABELS: Record<Attention, string> = {
  fail: "a shadow fails",
  unreachable: "an origin is unreachable",
  rollout: "a rollout is running",
};

function verdictCell(record: ServiceRecord, verdicts: VerdictsByName): HTMLElement {
  if (record.main) return h("td", { "data-label": "VERDICT", class: "quiet" }, "main");
  const shadow = verdicts.get(record.name)?.find((entry) => entry.version === record.version);
  return h(
    "td",
    { "data-label": "VERDICT" },
    shadow ? h("span", { class: `badge ${shadow.verdict}`, "data-verdict": shadow.verdict }, shadow.verdict) : "—",
  );
}

/**
 * Daeploy's table (MAIN NAME VERSION STATUS RUNNING) plus each shadow's VERDICT, the names that need
 * the operator first; a name selects that service's evidence.
 */
export function servicesTable(
  services: readonly ServiceRecord[],
  selected: string | undefined,
  onSelect: (name: string) => void,
  verdicts: VerdictsByName,
  rolling?: RollingNames,
): HTMLElement {
  if (services.length === 0) {
    return h(
      "div",
      { class: "empty", id: "no-services" },
      h("p", {}, "No services yet. Deploy one from a terminal:"),
      h("pre", {}, "npx daeploy-edge deploy hello 1.0.0 http://origin.example:8080"),
    );
  }
  const ordered = namesByAttention(services, verdicts, rolling).flatMap((name) =>
    services.filter((record) => record.name === name).sort((a, b) => Number(b.main) - Number(a.main)),
  );
  const rows = ordered.map((record) => {
    const attention = attentionOf(record.name, services, verdicts, rolling);
    return h(
      "tr",
      {
        class: [
          record.main ? "main" : "shadow",
          record.name === selected ? "selected" : "",
          attention ? "attention" : "",
        ]
          .join(" ")
          .trim(),
        "data-service": `${record.name} ${record.version}`,
        "data-attention": attention,
      },
      h(
        "td",
        { class: "main-cell", "data-label": "MAIN" },
        record.main ? h("span", { class: "badge main", title: "main" }, "★ main") : "shadow",
      ),
      h(
        "td",
        { "data-label": "NAME" },
        h(
          "button",
          {
            type: "button",
            class: "link",
            "aria-pressed": String(record.name === selected),
            "data-focus-key": `select ${record.name} ${record.version}`,
            onclick: () => onSelect(record.name),
          },
          record.name,
        ),
        attention && record.main
          ? h(
              "span",
              { class: `attention-note attention-${attention}`, title: ATTENTION_LABELS[attention] },
              `⚠ ${ATTENTION_LABELS[attention]}`,
            )
          : "",
      ),
      h(
        "td",
        { "data-label": "VERSION" },
        record.version,
        // The share of users this shadow answers itself, while it is a shadow.
        !record.main && record.canaryPercent > 0
          ? h(
              "span",
              { class: "canary", "data-canary": String(record.canaryPercent) },
              ` canary ${record.canaryPercent} %`,
            )
          : "",
      ),
      h("td", { "data-label": "STATUS" }, h("span", { class: `status ${record.status}` }, record.status)),
      h(
        "td",
        { "data-label": "RUNNING" },
        `${RUNNING_LABELS[record.status]} (since ${localTimestamp(record.statusSince)})`,
      ),
      verdictCell(record, verdicts),
    );
  });
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "services", id: "services-table" },
      h("caption", {}, "Services, those that need you first (choose a name to see its evidence)"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["MAIN", "NAME", "VERSION", "STATUS", "RUNNING", "VERDICT"].map((label) => h("th", { scope: "col" }, label)),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

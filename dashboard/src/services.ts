import type { ServiceRecord } from "./api.ts";
import { h, localTimestamp } from "./dom.ts";

const RUNNING_LABELS: Record<ServiceRecord["status"], string> = {
  running: "Running",
  unreachable: "Unreachable",
  unknown: "Unknown",
};

/** Daeploy's table (MAIN NAME VERSION STATUS RUNNING); a name selects that service's evidence. */
export function servicesTable(
  services: readonly ServiceRecord[],
  selected: string | undefined,
  onSelect: (name: string) => void,
): HTMLElement {
  if (services.length === 0) {
    return h(
      "div",
      { class: "empty", id: "no-services" },
      h("p", {}, "No services yet. Deploy one from a terminal:"),
      h("pre", {}, "npx daeploy-edge deploy hello 1.0.0 http://origin.example:8080"),
    );
  }
  const rows = services.map((record) =>
    h(
      "tr",
      {
        class: [record.main ? "main" : "shadow", record.name === selected ? "selected" : ""].join(" ").trim(),
        "data-service": `${record.name} ${record.version}`,
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
      ),
      h("td", { "data-label": "VERSION" }, record.version),
      h("td", { "data-label": "STATUS" }, h("span", { class: `status ${record.status}` }, record.status)),
      h(
        "td",
        { "data-label": "RUNNING" },
        `${RUNNING_LABELS[record.status]} (since ${localTimestamp(record.statusSince)})`,
      ),
    ),
  );
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "services", id: "services-table" },
      h("caption", {}, "Services (choose a name to see its evidence)"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["MAIN", "NAME", "VERSION", "STATUS", "RUNNING"].map((label) => h("th", { scope: "col" }, label)),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

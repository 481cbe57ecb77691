// Each shadow's verdict and numbers beside main's, and the fields that differ.
import { formatCount } from "../../worker/src/evidence/count.ts";
import type { Report, ServiceRecord, ShadowReport } from "./api.ts";
import { h, percent } from "./dom.ts";
import { describeRule, type FieldRule, ruleOf, takesRule } from "./rules.ts";

export interface EvidenceHandlers {
  promote(version: string): void;
  kill(record: ServiceRecord): void;
  mirror(record: ServiceRecord): void;
  ignore(path: string, ignored: boolean): void;
  /** Sets or removes the rule for a field; `current` is the one that governs it now. */
  rule(path: string, current: FieldRule | undefined): void;
  samples(version: string, path?: string): void;
}

const rate = (count: number, total: number) => (total > 0 ? count / total : 0);
const ms = (value: number) => `${value} ms`;

function mirrorLine(record: ServiceRecord): string {
  const methods = record.mirrorMethods === null ? "all methods" : record.mirrorMethods.join(", ");
  return `${record.mirrorPercent}% of requests, ${methods}`;
}

/**
 * The numbers card's rows (label, main, shadow): every copy's one outcome, beside main's own counts
 * where main has them. Counts are grouped as everywhere else (`12,345`), with `formatCount`. Rates
 * and latencies carry the bands the verdict was decided on, which hold at any look.
 */
export function numberRows(shadow: ShadowReport): [label: string, main: string, shadow: string][] {
  const { requests, errors, latencyMs, confidence } = shadow;
  const outcome = (count: number) =>
    `${formatCount(count)} (${percent(rate(count, requests.mirrored + requests.down))})`;
  const bands = confidence.latencyMs;
  return [
    ["mirrored", formatCount(requests.mirrored), formatCount(requests.mirrored)],
    ["same", "—", outcome(requests.same)],
    ["different", "—", outcome(requests.different)],
    ["error", formatCount(errors.main), outcome(requests.error)],
    ["not compared", "—", outcome(requests.notCompared)],
    ["down", "—", outcome(requests.down)],
    [
      "error rate",
      percent(confidence.mainErrorRate),
      `${percent(confidence.errorRate.rate)} (band ${interval(confidence.errorRate)})`,
    ],
    [
      "errors over main's, same requests",
      "—",
      `${points(confidence.errorIncrease.rate)} (band ${points(confidence.errorIncrease.low)} to ${points(confidence.errorIncrease.high)})`,
    ],
    [
      "difference rate",
      "—",
      confidence.diffRate ? `${percent(confidence.diffRate.rate)} (band ${interval(confidence.diffRate)})` : "—",
    ],
    ["p50", withBand(latencyMs.main.p50, bands?.p50.main), withBand(latencyMs.shadow.p50, bands?.p50.shadow)],
    ["p99", withBand(latencyMs.main.p99, bands?.p99.main), withBand(latencyMs.shadow.p99, bands?.p99.shadow)],
  ];
}

/** `120 ms (band 110–131 ms)`; a band not bounded yet above reads `110 ms–?`. */
function withBand(value: number, band: { low: number; high: number | null } | undefined): string {
  if (!band) return ms(value);
  return `${ms(value)} (band ${band.low}–${band.high === null ? "?" : ms(band.high)})`;
}

/** A difference of rates in percentage points, signed. */
const points = (value: number) => `${value > 0 ? "+" : ""}${Number((value * 100).toFixed(2))} pt`;

function numbers(shadow: ShadowReport): HTMLElement {
  return h(
    "table",
    { class: "numbers" },
    h(
      "caption",
      { class: "quiet" },
      `Bands hold at any look, however often this page refreshes (α ${percent(shadow.confidence.alpha ?? 0.01)}).`,
    ),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, ""),
        h("th", { scope: "col" }, "main"),
        h("th", { scope: "col" }, shadow.version),
      ),
    ),
    h(
      "tbody",
      {},
      numberRows(shadow).map(([label, main, other]) =>
        h("tr", {}, h("th", { scope: "row" }, label), h("td", {}, main), h("td", {}, other)),
      ),
    ),
  );
}

const interval = (bounds: { low: number; high: number }) => `${percent(bounds.low)}–${percent(bounds.high)}`;

/** The rule that decides how a row's values compare, and the button that changes it (body fields only). */
function ruleCell(version: string, path: string, rules: readonly FieldRule[] | undefined, handlers: EvidenceHandlers) {
  const rule = rules && ruleOf(rules, path);
  if (!takesRule(path)) return h("td", { "data-label": "rule" }, "—");
  return h(
    "td",
    { "data-label": "rule", class: "rule" },
    h("span", { class: rule ? "" : "quiet" }, rule ? describeRule(rule) : rules ? "exact" : "—"),
    " ",
    h(
      "button",
      {
        type: "button",
        class: "secondary small",
        "data-write": true,
        "data-focus-key": `rule ${version} ${path}`,
        "aria-label": `Rule for ${path}`,
        onclick: () => handlers.rule(path, rule),
      },
      "Rule…",
    ),
  );
}

function fieldsTable(
  shadow: ShadowReport,
  rules: readonly FieldRule[] | undefined,
  handlers: EvidenceHandlers,
): HTMLElement {
  if (shadow.fields.length === 0) return h("p", { class: "quiet" }, "No differing fields in this window.");
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "fields", "data-fields": shadow.version },
      h("caption", {}, `Differing fields of ${shadow.version}`),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["path", "kind", "count", "rate", "noise rate", "counts", "rule", "ignore", ""].map((label) =>
            h("th", { scope: "col", "data-write": label === "ignore" }, label),
          ),
        ),
      ),
      h(
        "tbody",
        {},
        shadow.fields.map((field) => {
          const id = `ignore-${shadow.version}-${field.path}-${field.kind}`;
          const rule = rules && ruleOf(rules, field.path);
          return h(
            "tr",
            { "data-path": field.path, "data-rule": rule?.match, class: field.counts ? "counts" : "" },
            h("td", { "data-label": "path" }, h("code", {}, field.path)),
            h("td", { "data-label": "kind" }, field.kind),
            h("td", { "data-label": "count" }, formatCount(field.count)),
            h("td", { "data-label": "rate" }, percent(field.rate)),
            h("td", { "data-label": "noise rate" }, percent(field.noiseRate)),
            h("td", { "data-label": "counts" }, field.counts ? "yes" : "no"),
            ruleCell(shadow.version, field.path, rules, handlers),
            h(
              "td",
              { "data-write": true, "data-label": "ignore" },
              h("input", {
                type: "checkbox",
                id,
                checked: field.ignored,
                "data-focus-key": id,
                "aria-label": `Ignore ${field.path}`,
                onchange: (event: Event) => {
                  const box = event.target;
                  if (box instanceof HTMLInputElement) handlers.ignore(field.path, box.checked);
                },
              }),
            ),
            h(
              "td",
              {},
              h(
                "button",
                {
                  type: "button",
                  class: "secondary small",
                  "data-focus-key": `samples ${shadow.version} ${field.path}`,
                  onclick: () => handlers.samples(shadow.version, field.path),
                },
                "Samples",
              ),
            ),
          );
        }),
      ),
    ),
  );
}

function noTraffic(name: string, version: string, window: string): HTMLElement {
  return h(
    "div",
    { class: "empty" },
    h("p", {}, `No traffic has been mirrored to ${version} in the last ${window}. Send some to ${name}:`),
    h("pre", {}, `curl ${location.origin}/services/${name}/`),
  );
}

export function shadowCards(
  report: Report,
  records: readonly ServiceRecord[],
  window: string,
  handlers: EvidenceHandlers,
  /** The name's field rules; undefined when the policy could not be read. */
  rules?: readonly FieldRule[],
): HTMLElement[] {
  return records
    .filter((record) => !record.main)
    .map((record) => {
      const shadow = report.shadows.find((entry) => entry.version === record.version);
      const actions = h(
        "div",
        { class: "buttons" },
        h(
          "button",
          {
            type: "button",
            "data-focus-key": `promote ${record.version}`,
            "data-write": true,
            onclick: () => handlers.promote(record.version),
          },
          // Over a failing verdict, promoting means forcing it: the button says so.
          shadow?.verdict === "fail" ? "Force the promotion…" : "Promote…",
        ),
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            "data-focus-key": `mirror ${record.version}`,
            "data-write": true,
            onclick: () => handlers.mirror(record),
          },
          "Traffic…",
        ),
        h(
          "button",
          {
            type: "button",
            class: "danger",
            "data-focus-key": `kill ${record.version}`,
            "data-write": true,
            onclick: () => handlers.kill(record),
          },
          "Kill…",
        ),
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            "data-focus-key": `all-samples ${record.version}`,
            onclick: () => handlers.samples(record.version),
          },
          "Samples",
        ),
      );
      const header = h(
        "header",
        {},
        h("h3", {}, `${record.name} ${record.version}`, " ", h("span", { class: "quiet" }, "shadow")),
        shadow ? h("span", { class: `badge ${shadow.verdict}`, "data-verdict": shadow.verdict }, shadow.verdict) : "",
      );
      const mirror = h("p", { class: "mirror" }, "Mirroring: ", mirrorLine(record));
      // A shadow that got no copy because it was down has evidence: its down copies.
      if (!shadow || shadow.requests.mirrored + shadow.requests.down === 0) {
        return h(
          "section",
          { class: "shadow-card", "data-shadow": record.version },
          header,
          mirror,
          noTraffic(record.name, record.version, window),
          actions,
        );
      }
      return h(
        "section",
        { class: "shadow-card", "data-shadow": record.version },
        header,
        h(
          "ul",
          { class: "reasons" },
          shadow.reasons.map((reason) => h("li", {}, reason)),
        ),
        mirror,
        numbers(shadow),
        actions,
        fieldsTable(shadow, rules, handlers),
      );
    });
}

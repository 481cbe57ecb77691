import type { NotificationCounts } from "../coordinator/ServiceCoordinator.ts";
import { bucketValue, type HistogramJson } from "../evidence/histogram.ts";
import type { VersionMetrics } from "../evidence/ledger/lifetime.ts";
import { boundedText } from "../evidence/paths.ts";

/** The Prometheus text exposition format, version 0.0.4. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Per version, the fields with the most differences: enough to chart, bounded whatever the payloads. */
export const TOP_FIELDS = 20;

/**
 * Bucket bounds in seconds. The ledger keeps 2 %-wide buckets; these are
 * coarser, so PromQL's histogram_quantile is exact only to the bucket that
 * holds the quantile (the report's own p99 is within 2 %).
 */
export const LE_SECONDS = [
  0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2,
  3, 5, 10, 30,
];

const VERDICTS = ["pass", "fail", "inconclusive"] as const;

export interface NameMetrics {
  service: string;
  shadows: VersionMetrics[];
  notifications?: NotificationCounts;
}

/**
 * Bytes of a label value: every value (a field path above all) comes from what origins answer, and
 * Prometheus keeps each distinct value as a series of its own, so each is cut to this.
 */
export const LABEL_MAX_BYTES = 256;

/** A label value within the cap, with its backslashes, double quotes and line feeds escaped. */
const escapeLabel = (value: string) =>
  boundedText(value, LABEL_MAX_BYTES).replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");

const labels = (pairs: Record<string, string>) =>
  `{${Object.entries(pairs)
    .map(([key, value]) => `${key}="${escapeLabel(value)}"`)
    .join(",")}}`;

/** Go's float formatting as Prometheus writes it; integers stay integers. */
const number = (value: number) => (Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : "-Inf");

class Family {
  readonly lines: string[] = [];
  constructor(
    readonly name: string,
    readonly type: "counter" | "gauge" | "histogram",
    readonly help: string,
  ) {}

  add(suffix: string, pairs: Record<string, string>, value: number): void {
    this.lines.push(`${this.name}${suffix}${labels(pairs)} ${number(value)}`);
  }

  toString(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, ...this.lines].join("\n");
  }
}

/**
 * A ledger histogram filed under `LE_SECONDS`, cumulative. Each 2 % bucket is
 * filed by the value the report reads it back as (its geometric middle), so a
 * PromQL quantile and the report's quantile land in the same `le` bucket.
 */
function histogramLines(family: Family, pairs: Record<string, string>, json: HistogramJson): void {
  const counts = new Array<number>(LE_SECONDS.length + 1).fill(0);
  let sumSeconds = 0;
  let total = 0;
  for (const [key, count] of Object.entries(json)) {
    const seconds = bucketValue(Number(key)) / 1000;
    const slot = LE_SECONDS.findIndex((le) => seconds <= le + 1e-12);
    const at = slot < 0 ? LE_SECONDS.length : slot;
    counts[at] = (counts[at] ?? 0) + count;
    sumSeconds += seconds * count;
    total += count;
  }
  let cumulative = 0;
  LE_SECONDS.forEach((le, i) => {
    cumulative += counts[i] ?? 0;
    family.add("_bucket", { ...pairs, le: String(le) }, cumulative);
  });
  family.add("_bucket", { ...pairs, le: "+Inf" }, total);
  family.add("_sum", pairs, Math.round(sumSeconds * 1e6) / 1e6);
  family.add("_count", pairs, total);
}

/**
 * A version's top fields by (path, kind) as their labels read: paths that one cap makes equal are one
 * series, summed, as an exposition must not name a series twice.
 */
function topFields(shadow: VersionMetrics): [[string, string], number][] {
  const series = new Map<string, [[string, string], number]>();
  for (const field of shadow.lifetime.fields.slice(0, TOP_FIELDS)) {
    const path = boundedText(field.path, LABEL_MAX_BYTES);
    const key = `${path}\n${field.kind}`;
    const [, count] = series.get(key) ?? [[path, field.kind], 0];
    series.set(key, [[path, field.kind], count + field.count]);
  }
  return [...series.values()];
}

/** Every name's metrics as one exposition: each family once, with all its series. */
export function writeExposition(names: readonly NameMetrics[]): string {
  const copies = new Family(
    "daeploy_copies_total",
    "counter",
    "Copies a shadow received over its life, by outcome (same and different as the report decides them now)",
  );
  const duration = new Family(
    "daeploy_request_duration_seconds",
    "histogram",
    "Time to response headers on mirrored requests: the shadow's, and main's on the same requests",
  );
  const verdict = new Family(
    "daeploy_shadow_verdict",
    "gauge",
    "1 for the shadow's verdict over the last hour, 0 for the others",
  );
  const fields = new Family(
    "daeploy_field_differences_total",
    "counter",
    `Compared requests that differed at a field, for each version's top ${TOP_FIELDS} fields`,
  );
  const notifications = new Family(
    "daeploy_notifications_total",
    "counter",
    "Notification events of a name that were delivered, or given up on after every retry",
  );

  for (const { service, shadows, notifications: sent } of names) {
    for (const shadow of shadows) {
      const { version } = shadow;
      const { requests } = shadow.lifetime;
      const outcomes: Record<string, number> = {
        same: requests.same,
        different: requests.different,
        error: requests.error,
        not_compared: requests.notCompared,
        down: requests.down,
        skipped: requests.skipped,
      };
      for (const [outcome, count] of Object.entries(outcomes)) copies.add("", { service, version, outcome }, count);
      histogramLines(duration, { service, version, role: "main" }, shadow.latencyMain);
      histogramLines(duration, { service, version, role: "shadow" }, shadow.latencyShadow);
      for (const candidate of VERDICTS) {
        verdict.add("", { service, version, verdict: candidate }, candidate === shadow.verdict ? 1 : 0);
      }
      for (const [[path, kind], count] of topFields(shadow)) fields.add("", { service, version, path, kind }, count);
    }
    if (sent) {
      notifications.add("", { service, result: "delivered" }, sent.delivered);
      notifications.add("", { service, result: "failed" }, sent.failed);
    }
  }
  return `${[copies, duration, verdict, fields, notifications].map(String).join("\n")}\n`;
}

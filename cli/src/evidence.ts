import { formatCount } from "../../worker/src/evidence/count.ts";
import type { EvidenceReport, ShadowReport } from "./client.ts";
import { formatSimpleTable } from "./table.ts";

export const REPORT_TABLE_HEADERS = [
  "VERSION",
  "COMPARED",
  "SAME",
  "DIFFERENT",
  "ERRORS",
  "P50",
  "P99",
  "VERDICT",
] as const;

/** Counting fields shown under a failing shadow. */
const TOP_FIELDS = 5;

/** `1,204`: a count as people read it, the same on every machine, and as the gateway's reasons write it. */
export { formatCount };

/** `0.2%`, `20%`: at most two decimals, as the gateway writes rates in its reasons. */
export const formatRate = (rate: number) => `${Number((rate * 100).toFixed(2))}%`;

/** Milliseconds: one decimal under 10 ms, where the histogram's 4 % buckets still tell 3.1 from 3.4. */
export const formatMs = (ms: number) => `${Number(ms.toFixed(ms < 10 ? 1 : 0))} ms`;

const fraction = (count: number, total: number) => (total > 0 ? count / total : 0);

export interface ShadowRates {
  compared: number;
  different: number;
  shadowErrors: number;
  mainErrors: number;
}

/** Error rates over mirrored requests and the difference rate over compared ones, as the gate judges them. */
export function ratesOf(shadow: ShadowReport): ShadowRates {
  const { requests, errors } = shadow;
  return {
    compared: requests.compared,
    different: fraction(requests.different, requests.compared),
    shadowErrors: fraction(errors.shadow, requests.mirrored),
    mainErrors: fraction(errors.main, requests.mirrored),
  };
}

/** `pass`, `fail`, or `inconclusive (12/100)` with the compared count against what the gate needs. */
export function verdictCell(shadow: ShadowReport, minRequests: number): string {
  if (shadow.verdict !== "inconclusive") return shadow.verdict;
  return `inconclusive (${formatCount(shadow.requests.compared)}/${formatCount(minRequests)})`;
}

/**
 * Main is measured beside each shadow on the requests that shadow received. Sampling is nested (a
 * request a 10 % shadow gets, every shadow at 10 % or more gets too), so the shadow with the most
 * mirrored requests saw the widest share of main's traffic: its side of main is the baseline.
 */
export function baselineOf(report: EvidenceReport): ShadowReport | undefined {
  let best: ShadowReport | undefined;
  for (const shadow of report.shadows) {
    if (!best || shadow.requests.mirrored > best.requests.mirrored) best = shadow;
  }
  return best;
}

function shadowRow(shadow: ShadowReport, minRequests: number): string[] {
  const { requests } = shadow;
  const measured = requests.mirrored > 0;
  return [
    shadow.version,
    formatCount(requests.compared),
    formatCount(requests.same),
    formatCount(requests.different),
    measured ? formatRate(ratesOf(shadow).shadowErrors) : "-",
    measured ? formatMs(shadow.latencyMs.shadow.p50) : "-",
    measured ? formatMs(shadow.latencyMs.shadow.p99) : "-",
    verdictCell(shadow, minRequests),
  ];
}

function mainRow(report: EvidenceReport): string[] {
  const baseline = baselineOf(report);
  const measured = baseline !== undefined && baseline.requests.mirrored > 0;
  return [
    report.main,
    "-",
    "-",
    "-",
    measured ? formatRate(ratesOf(baseline).mainErrors) : "-",
    measured ? formatMs(baseline.latencyMs.main.p50) : "-",
    measured ? formatMs(baseline.latencyMs.main.p99) : "-",
    "main",
  ];
}

/** The evidence table, main's row first as the baseline, then each shadow in the report's order. */
export function formatReportTable(report: EvidenceReport, minRequests: number): string {
  const rows = [mainRow(report), ...report.shadows.map((shadow) => shadowRow(shadow, minRequests))];
  return formatSimpleTable(REPORT_TABLE_HEADERS, rows);
}

const indent = (text: string, by = "  ") =>
  text
    .split("\n")
    .map((line) => `${by}${line}`)
    .join("\n");

/** Under the table: why each failing shadow fails, and the fields that count against it. */
export function formatFailures(report: EvidenceReport): string[] {
  const blocks: string[] = [];
  for (const shadow of report.shadows) {
    if (shadow.verdict !== "fail") continue;
    const lines = [`${shadow.version} fails:`, ...shadow.reasons.map((reason) => `  ${reason}`)];
    const counting = shadow.fields.filter((field) => field.counts).slice(0, TOP_FIELDS);
    if (counting.length > 0) {
      const table = formatSimpleTable(
        ["PATH", "KIND", "RATE", "NOISE RATE"],
        counting.map((field) => [field.path, field.kind, formatRate(field.rate), formatRate(field.noiseRate)]),
      );
      lines.push(indent(table));
    }
    blocks.push(lines.join("\n"));
  }
  return blocks;
}

/** What main-against-main copies taught: fields that differ on their own, so they do not count. */
export function formatNoise(report: EvidenceReport): string | undefined {
  const { noise } = report;
  if (noise.sampled === 0 || noise.fields.length === 0) return undefined;
  const fields = noise.fields.map((field) => `${field.path} ${formatRate(field.rate)}`).join(", ");
  return `Noise (main against itself, ${formatCount(noise.sampled)} copies): ${fields}`;
}

/**
 * The line `assign` prints before its question, e.g. `Evidence for hello 2.0.0 (last 1h): pass —
 * 1,204 compared, 0.2% different, errors 0.1% vs 0.1% on main, p99 118 ms vs 112 ms`.
 */
export function verdictLine(name: string, shadow: ShadowReport, minRequests: number, window = "1h"): string {
  const head = `Evidence for ${name} ${shadow.version} (last ${window}):`;
  if (shadow.verdict === "inconclusive") {
    const counted = `${formatCount(shadow.requests.compared)}/${formatCount(minRequests)} compared`;
    return `${head} inconclusive (${counted}) — too few to judge, so the gate lets it through`;
  }
  const rates = ratesOf(shadow);
  const { main, shadow: own } = shadow.latencyMs;
  return (
    `${head} ${shadow.verdict} — ${formatCount(rates.compared)} compared, ${formatRate(rates.different)} different, ` +
    `errors ${formatRate(rates.shadowErrors)} vs ${formatRate(rates.mainErrors)} on main, ` +
    `p99 ${formatMs(own.p99)} vs ${formatMs(main.p99)}`
  );
}

import { formatCount, formatCounted } from "../../worker/src/evidence/count.ts";
import type { EvidenceReport, ShadowReport } from "./client.ts";
import { escapeControls } from "./escape.ts";
import { formatLocalTimestamp, formatSimpleTable } from "./table.ts";

/** One column per outcome: every copy sent is SAME, DIFFERENT, ERROR or NOT COMPARED; DOWN were never sent. */
const REPORT_TABLE_HEADERS = [
  "VERSION",
  "SAME",
  "DIFFERENT",
  "ERROR",
  "NOT COMPARED",
  "DOWN",
  "ERROR RATE",
  "P50",
  "P99",
  "VERDICT",
] as const;

/** Counting fields shown under a failing shadow; the rest are summed up in one line. */
const TOP_FIELDS = 5;

/** `1,204`: a count as people read it, the same on every machine, and as the gateway's reasons write it. */
export { formatCount };

/** `0.2%`, `20%`: at most two decimals, as the gateway writes rates in its reasons. */
export const formatRate = (rate: number) => `${Number((rate * 100).toFixed(2))}%`;

/** Milliseconds: one decimal under 10 ms, where the histogram's 4 % buckets still tell 3.1 from 3.4. */
export const formatMs = (ms: number) => `${Number(ms.toFixed(ms < 10 ? 1 : 0))} ms`;

const fraction = (count: number, total: number) => (total > 0 ? count / total : 0);

interface ShadowRates {
  compared: number;
  different: number;
  shadowErrors: number;
  mainErrors: number;
}

/**
 * The rates as the gate judges them: the shadow's errors over every copy with an outcome (a copy
 * never sent because the shadow was down counts as a failure), main's over mirrored requests, and
 * differences over compared ones.
 */
function ratesOf(shadow: ShadowReport): ShadowRates {
  const { requests, errors } = shadow;
  return {
    compared: requests.compared,
    different: fraction(requests.different, requests.compared),
    shadowErrors: fraction(requests.error + requests.down, requests.mirrored + requests.down),
    mainErrors: fraction(errors.main, requests.mirrored),
  };
}

/** Copies that have an outcome: the gate decides nothing on fewer than `minRequests` of them. */
const withOutcome = (shadow: ShadowReport) => shadow.requests.mirrored + shadow.requests.down;

/** `pass`, `fail`, or `inconclusive (12/100)` with the copies that have an outcome against what the gate needs. */
export function verdictCell(shadow: ShadowReport, minRequests: number): string {
  if (shadow.verdict !== "inconclusive") return shadow.verdict;
  return `inconclusive (${formatCount(withOutcome(shadow))}/${formatCount(minRequests)})`;
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
  const judged = withOutcome(shadow) > 0;
  const timed = shadow.confidence.latencySamples > 0;
  return [
    shadow.version,
    formatCount(requests.same),
    formatCount(requests.different),
    formatCount(requests.error),
    formatCount(requests.notCompared),
    formatCount(requests.down),
    judged ? formatRate(ratesOf(shadow).shadowErrors) : "-",
    timed ? formatMs(shadow.latencyMs.shadow.p50) : "-",
    timed ? formatMs(shadow.latencyMs.shadow.p99) : "-",
    verdictCell(shadow, minRequests),
  ];
}

/** Main's numbers as `report` and `assign` both print them; a dash where nothing was measured. */
interface MainNumbers {
  errorRate: number | undefined;
  p50: number | undefined;
  p99: number | undefined;
}

/**
 * One baseline for main's numbers: main's own traffic against the current main over the window
 * (every request it served). A gateway that does not count it yet: main's side of the widest shadow.
 */
export function mainNumbers(report: EvidenceReport): MainNumbers {
  const traffic = report.mainTraffic;
  if (traffic && traffic.requests > 0) {
    const { p50, p99 } = traffic.latencyMs;
    return { errorRate: fraction(traffic.status["5xx"], traffic.requests), p50, p99 };
  }
  const baseline = baselineOf(report);
  const measured = baseline !== undefined && baseline.requests.mirrored > 0;
  // Main's latency is measured beside a shadow's answers: none when every copy failed.
  const timed = baseline !== undefined && baseline.confidence.latencySamples > 0;
  return {
    errorRate: measured ? ratesOf(baseline).mainErrors : undefined,
    p50: timed ? baseline.latencyMs.main.p50 : undefined,
    p99: timed ? baseline.latencyMs.main.p99 : undefined,
  };
}

const orDash = <T>(value: T | undefined, format: (value: T) => string) => (value === undefined ? "-" : format(value));

function mainRow(report: EvidenceReport): string[] {
  const main = mainNumbers(report);
  return [
    report.baseline?.main ?? report.main,
    "-",
    "-",
    "-",
    "-",
    "-",
    orDash(main.errorRate, formatRate),
    orDash(main.p50, formatMs),
    orDash(main.p99, formatMs),
    "main",
  ];
}

/**
 * The line above the table: which main the shadows were compared with, since when, and main's own
 * traffic over the window, e.g. `Against main 2.0.0 since 2026-11-30 10:42:05: 1,500 requests to main`.
 */
export function baselineLine(report: EvidenceReport): string | undefined {
  const { baseline, mainTraffic } = report;
  if (!baseline) return undefined;
  const former = baseline.main !== report.main;
  const head = `Against ${former ? "former main" : "main"} ${baseline.main}`;
  const since = baseline.since === null ? " (no evidence yet)" : ` since ${formatLocalTimestamp(baseline.since)}`;
  const until = former && baseline.until ? ` until ${formatLocalTimestamp(baseline.until)}` : "";
  const served =
    !former && mainTraffic
      ? `: ${formatCount(mainTraffic.requests)} request${mainTraffic.requests === 1 ? "" : "s"} to main`
      : "";
  return `${head}${since}${until}${served}`;
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

/**
 * The fields that count against a shadow, ranked: a different `status` first (it says more than
 * any field of the body), then by how often.
 */
function rankedFields(shadow: ShadowReport): ShadowReport["fields"] {
  const counting = shadow.fields.filter((field) => field.counts);
  return counting.sort((a, b) => Number(b.path === "status") - Number(a.path === "status") || b.count - a.count);
}

/**
 * Under the table: why each shadow fails, or what it is waiting for (with about how many more
 * requests would decide it), and the fields that count against it.
 */
export function formatFailures(report: EvidenceReport): string[] {
  const blocks: string[] = [];
  for (const shadow of report.shadows) {
    if (shadow.verdict === "pass") continue;
    const head = shadow.verdict === "fail" ? `${shadow.version} fails:` : `${shadow.version} is inconclusive:`;
    // Reasons and paths carry JSON keys that origins chose: printed with their control characters escaped.
    const lines = [head, ...shadow.reasons.map((reason) => `  ${escapeControls(reason)}`)];
    const ranked = rankedFields(shadow);
    const shown = ranked.slice(0, TOP_FIELDS);
    if (shown.length > 0) {
      const table = formatSimpleTable(
        ["PATH", "KIND", "RATE", "NOISE RATE"],
        shown.map((field) => [
          escapeControls(field.path),
          field.kind,
          formatRate(field.rate),
          formatRate(field.noiseRate),
        ]),
      );
      lines.push(indent(table));
      const more = ranked.length - shown.length;
      if (more > 0) lines.push(`  +${more} more field${more === 1 ? "" : "s"}`);
    }
    blocks.push(lines.join("\n"));
  }
  return blocks;
}

/** Canary requests are counted like mirrored ones; the count says how many requests each shadow answered. */
export function formatCanaryPairs(report: EvidenceReport): string[] {
  return report.shadows
    .filter((shadow) => shadow.requests.canary > 0)
    .map(
      ({ version, requests }) =>
        `${version} answered ${formatCount(requests.canary)} of its ${formatCount(requests.mirrored)} requests as a canary (main got copies of the reads, of writes only with canaryWrites)`,
    );
}

/** What main-against-main copies taught: fields that differ on their own, so they do not count. */
export function formatNoise(report: EvidenceReport): string | undefined {
  const { noise } = report;
  if (noise.sampled === 0 || noise.fields.length === 0) return undefined;
  const fields = noise.fields
    .map((field) => `${escapeControls(field.path)} (${field.kind}) ${formatRate(field.rate)}`)
    .join(", ");
  return `Noise (main against itself, ${formatCounted(noise.sampled, "copy", "copies")}): ${fields}`;
}

/**
 * The line `assign` prints before its question, e.g. `Evidence for hello 2.0.0 (last 1h): pass —
 * 1,204 compared, 0.17% different (at most 0.6%), errors 0.08% vs 0.08% on main, p99 118 ms vs 112 ms`.
 */
/**
 * `40/100 with an outcome` while the gate's floor is not met; past it, `252 with an outcome` alone
 * (`252/100` read as a fraction gone wrong).
 */
export function outcomeCount(count: number, minRequests: number): string {
  return count < minRequests
    ? `${formatCount(count)}/${formatCount(minRequests)} with an outcome`
    : `${formatCount(count)} with an outcome`;
}

export function verdictLine(
  name: string,
  shadow: ShadowReport,
  minRequests: number,
  window = "1h",
  main?: MainNumbers,
): string {
  const head = `Evidence for ${name} ${shadow.version} (last ${window}):`;
  if (shadow.verdict === "inconclusive") {
    const counted = outcomeCount(withOutcome(shadow), minRequests);
    const decides = shadow.reasons.at(-1) ?? "more requests are needed to decide";
    return `${head} inconclusive (${counted}) — ${escapeControls(decides)}; the gate lets it through with a warning`;
  }
  const rates = ratesOf(shadow);
  const own = shadow.latencyMs.shadow;
  // Main's numbers as `report` prints them, when given; else those beside this shadow's copies.
  const mainErrors = main?.errorRate ?? rates.mainErrors;
  const mainP99 = main ? main.p99 : shadow.latencyMs.main.p99;
  const bound = shadow.confidence.diffRate;
  const interval = bound
    ? ` (${shadow.verdict === "pass" ? "at most" : "at least"} ${formatRate(shadow.verdict === "pass" ? bound.high : bound.low)})`
    : "";
  return (
    `${head} ${shadow.verdict} — ${formatCount(rates.compared)} compared, ${formatRate(rates.different)} different${interval}, ` +
    `errors ${formatRate(rates.shadowErrors)} vs ${formatRate(mainErrors)} on main, ` +
    (shadow.confidence.latencySamples > 0
      ? `p99 ${formatMs(own.p99)} vs ${orDash(mainP99, formatMs)}`
      : "no latency measured")
  );
}

import { addCounters } from "../counters.ts";
import { type HistogramJson, LatencyHistogram } from "../histogram.ts";
import { p99OrNull, type SeriesSteps, seriesSteps, stepOf } from "../series.ts";
import {
  type BaselineReport,
  type EvidencePolicy,
  type EvidenceReport,
  judgeShadow,
  type NoiseEvidence,
  type ReportSeries,
  type ShadowReport,
  withDefaults,
} from "../verdict.ts";
import { assembleReport, type BaselineRead, type ReportInput } from "./read.ts";
import { addRoutes, emptyEvidence, mainTrafficOf, noiseOf, versionsOf, type WindowRows } from "./window.ts";

const MINUTE_MS = 60_000;

const zerosOf = (steps: SeriesSteps) => new Array<number>(steps.length).fill(0);
const histogramsOf = (steps: SeriesSteps) => Array.from({ length: steps.length }, () => new LatencyHistogram());
const addAt = (values: number[], i: number, n: number) => {
  values[i] = (values[i] ?? 0) + n;
};

/** The report and its series over the window's rows (see the ledger's `reportWithSeries`). */
export function readWithSeries(
  input: ReportInput,
  read: BaselineRead,
  baseline: BaselineReport,
  promotions: ReportSeries["promotions"],
  rows: WindowRows,
): EvidenceReport & { series: ReportSeries } {
  const policy = withDefaults(input.policy);
  // The steps span the whole window; the shadows' evidence only the baseline's part of it.
  const steps = seriesSteps(read.query.lo, read.query.hi);
  const noise = noiseOf(rows);
  const mainRequests = zerosOf(steps);
  const mainLatency = histogramsOf(steps);
  const shadows: ShadowReport[] = [];
  const shadowSeries: ReportSeries["versions"] = [];
  for (const version of read.query.versions ?? versionsOf(rows)) {
    const { report, series, latencyMain } = versionSeries(version, steps, rows, noise, policy);
    shadows.push(report);
    shadowSeries.push(series);
    latencyMain.forEach((histogram, i) => {
      mainLatency[i]?.merge(histogram);
    });
    // Sampling is nested, so main's mirrored requests in a step are those of its widest shadow.
    series.requests.forEach((n, i) => {
      mainRequests[i] = Math.max(mainRequests[i] ?? 0, n);
    });
  }
  const mainTraffic = mainTrafficOf(read.main, read.query.since, rows);
  return {
    ...assembleReport(input, baseline, mainTraffic, shadows, noise),
    series: {
      from: new Date(steps.first * MINUTE_MS).toISOString(),
      stepSeconds: steps.step * 60,
      main: mainSeriesOf(steps, rows),
      promotions,
      versions: [{ version: read.main, requests: mainRequests, p99Ms: mainLatency.map(p99OrNull) }, ...shadowSeries],
    },
  };
}

/** One shadow's report and its steps, from one pass over its rows: each step keeps its own sums and histograms. */
function versionSeries(
  version: string,
  steps: SeriesSteps,
  rows: WindowRows,
  noise: NoiseEvidence,
  policy: EvidencePolicy,
) {
  const requests = zerosOf(steps);
  const compared = zerosOf(steps);
  const different = zerosOf(steps);
  const latencyShadow = histogramsOf(steps);
  const latencyMain = histogramsOf(steps);
  const evidence = emptyEvidence(version);
  for (const row of rows.counters) {
    if (row.version !== version) continue;
    const i = stepOf(steps, row.minute);
    addAt(requests, i, row.mirrored);
    addAt(compared, i, row.compared);
    latencyMain[i]?.mergeJson(JSON.parse(row.latencyMain) as HistogramJson);
    latencyShadow[i]?.mergeJson(JSON.parse(row.latencyShadow) as HistogramJson);
    addCounters(evidence, row);
  }
  for (const histogram of latencyMain) evidence.latencyMain.merge(histogram);
  for (const histogram of latencyShadow) evidence.latencyShadow.merge(histogram);

  // Keyed by partial flag and signature: a partial request that differs is judged, so it joins `compared`.
  const signatureSteps = new Map<string, number[]>();
  for (const row of rows.signatures) {
    if (row.version !== version) continue;
    const signatures = row.partial ? evidence.partialSignatures : evidence.signatures;
    signatures.set(row.signature, (signatures.get(row.signature) ?? 0) + row.count);
    const key = `${row.partial}${row.signature}`;
    let perStep = signatureSteps.get(key);
    if (!perStep) {
      perStep = zerosOf(steps);
      signatureSteps.set(key, perStep);
    }
    addAt(perStep, stepOf(steps, row.minute), row.count);
  }

  addRoutes(evidence, version, rows);
  // Whether a field counts is decided over the whole window, as in the report; each step then adds its requests.
  const { report, counts } = judgeShadow(evidence, noise, policy);
  for (const [key, perStep] of signatureSteps) {
    if (!counts(key.slice(1))) continue;
    const partial = key[0] === "1";
    perStep.forEach((n, i) => {
      addAt(different, i, n);
      if (partial) addAt(compared, i, n);
    });
  }
  const series = { version, requests, compared, different, p99Ms: latencyShadow.map(p99OrNull) };
  return { report, series, latencyMain };
}

/** Main's own traffic step by step over the window, whichever version was main. */
function mainSeriesOf(steps: SeriesSteps, rows: WindowRows): ReportSeries["main"] {
  const series = {
    requests: zerosOf(steps),
    status: { "2xx": zerosOf(steps), "3xx": zerosOf(steps), "4xx": zerosOf(steps), "5xx": zerosOf(steps) },
  };
  const latency = histogramsOf(steps);
  for (const row of rows.mainTraffic) {
    const i = stepOf(steps, row.minute);
    addAt(series.requests, i, row.requests);
    addAt(series.status["2xx"], i, row.s2xx);
    addAt(series.status["3xx"], i, row.s3xx);
    addAt(series.status["4xx"], i, row.s4xx);
    addAt(series.status["5xx"], i, row.s5xx);
    latency[i]?.mergeJson(JSON.parse(row.latency) as HistogramJson);
  }
  return { ...series, p99Ms: latency.map(p99OrNull) };
}

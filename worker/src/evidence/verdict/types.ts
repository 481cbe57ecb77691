import type { DiffKind } from "../compare.ts";
import type { Counters } from "../counters.ts";
import type { LatencyHistogram, LatencySummary } from "../histogram.ts";

/**
 * What the ledger holds for one shadow over a window: its counters (every
 * copy the traffic controls selected is in exactly one of `compared`,
 * `notCompared`, `errorsShadow`, which were sent, or `down`, never sent),
 * both sides' latencies, and its differences by signature.
 */
export interface ShadowEvidence extends Counters {
  version: string;
  /** Route → requests with field detail on it (compared, or answered with status and headers compared). */
  routes: Map<string, number>;
  latencyMain: LatencyHistogram;
  latencyShadow: LatencyHistogram;
  /** Signature → compared requests with exactly that set of differences (no entry for none). */
  signatures: Map<string, number>;
  /** The same for `notCompared` requests whose status or headers differed. */
  partialSignatures: Map<string, number>;
}

export interface NoiseEvidence {
  /** Twin copies: main against itself. */
  sampled: number;
  /** Route → twin copies on it. */
  routes: Map<string, number>;
  /** `route\tpath kind` → twin copies on that route where that path differed in that way. */
  paths: Map<string, number>;
}

export interface FieldReport {
  path: string;
  kind: DiffKind;
  count: number;
  rate: number;
  /** Main's own rate of this difference on the routes where the shadow showed it (twin copies there). */
  noiseRate: number;
  ignored: boolean;
  counts: boolean;
}

export type Verdict = "pass" | "fail" | "inconclusive";

/** A rate with its band: the rates the evidence has not ruled out, at any look. */
interface RateInterval {
  rate: number;
  low: number;
  high: number;
}

/** A quantile's band in ms; `high` is null until enough latencies bound it. */
export interface LatencyBand {
  low: number;
  high: number | null;
}

/** The bands of one quantile on both sides, on the same requests. */
interface QuantileBands {
  main: LatencyBand;
  shadow: LatencyBand;
}

/**
 * The bands the verdict was decided on. Each is a confidence sequence: it
 * holds at every look at once, so reading the report every minute does not
 * make a false verdict likelier than `alpha`.
 */
export interface Confidence {
  /** Counting differences among compared requests; null before any was compared. */
  diffRate: RateInterval | null;
  /** (error + down) / (mirrored + down). */
  errorRate: RateInterval;
  mainErrorRate: number;
  /**
   * How much more often the shadow failed than main on the same requests:
   * (shadow-only failures + down − main-only failures) / (mirrored + down).
   */
  errorIncrease: RateInterval;
  /** Requests measured on both sides (a timed-out copy at its timeout). */
  latencySamples: number;
  latencyMs: { p50: QuantileBands; p99: QuantileBands };
  /** The gate's alpha: the chance of a false fail over every look, and of a false pass. */
  alpha: number;
  /** Always true: the bands hold at any look, not only at a planned one. */
  anytime: true;
  /** When inconclusive: about how many more requests at the current rates would decide, if that can be told. */
  moreRequests: number | null;
}

export interface ShadowReport {
  version: string;
  verdict: Verdict;
  reasons: string[];
  /** `mirrored` = same + different + error + notCompared; `down` were never sent; `skipped` are no evidence. */
  requests: {
    mirrored: number;
    compared: number;
    same: number;
    different: number;
    error: number;
    notCompared: number;
    down: number;
    skipped: number;
    unrecorded: number;
    /** Of `mirrored`: pairs the shadow answered as a canary; the rest were mirrored copies. */
    canary: number;
  };
  errors: { main: number; shadow: number };
  latencyMs: { main: LatencySummary; shadow: LatencySummary };
  confidence: Confidence;
  fields: FieldReport[];
}

export interface NoiseReport {
  sampled: number;
  /** Twin copies per route (method and folded path): a route's noise excuses only differences on it. */
  routes: { route: string; sampled: number }[];
  /** Each rate is over its route's twin copies. */
  fields: { route: string; path: string; kind: DiffKind; rate: number }[];
}

/** Which main the shadows were compared with, and since when (ISO 8601; null before any evidence against it). */
export interface BaselineReport {
  main: string;
  since: string | null;
  /** An older baseline only: when the next main took over. */
  until?: string | null;
}

/** Main's own traffic: every request it served in the window, against this baseline, shadows or not. */
export interface MainTrafficReport {
  requests: number;
  status: { "2xx": number; "3xx": number; "4xx": number; "5xx": number };
  latencyMs: LatencySummary;
}

export interface EvidenceReport {
  name: string;
  main: string;
  window: { from: string; to: string };
  /** The report judges the shadows against this main only, from `since` (or the window's start if later). */
  baseline: BaselineReport;
  mainTraffic: MainTrafficReport;
  shadows: ShadowReport[];
  noise: NoiseReport;
  /** Only when asked for: the window step by step, for charts. */
  series?: ReportSeries;
}

/**
 * The report's window step by step, oldest first: every array holds one value
 * per step from `from`. A step without evidence is 0 (counts) or null (p99).
 */
export interface ReportSeries {
  /** Start of the first step, ISO 8601. */
  from: string;
  /** 60 for windows up to 4 h; a longer window takes a wider step (a multiple of 60), so at most ~240 steps. */
  stepSeconds: number;
  /**
   * Main's own traffic step by step, whichever version was main: every request it served,
   * shadows or not, so the line goes on across promotions.
   */
  main: {
    requests: number[];
    status: { "2xx": number[]; "3xx": number[]; "4xx": number[]; "5xx": number[] };
    p99Ms: (number | null)[];
  };
  /** Changes of main inside the window (the baseline changed), oldest first. */
  promotions: { at: string; main: string }[];
  /** Main first, then the shadows. */
  versions: {
    version: string;
    /** A shadow's mirrored requests; main's are those of its widest shadow in each step (sampling is nested). */
    requests: number[];
    /** Shadows only: compared requests. */
    compared?: number[];
    /** Shadows only: requests with a counting difference, by the same ignore and noise rules as the report. */
    different?: number[];
    /** Main's comes from the main histograms of every shadow's rows. */
    p99Ms: (number | null)[];
  }[];
}

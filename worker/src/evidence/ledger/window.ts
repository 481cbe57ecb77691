import { addCounters, emptyCounters } from "../counters.ts";
import { type HistogramJson, LatencyHistogram } from "../histogram.ts";
import type { MainTrafficReport, NoiseEvidence, ShadowEvidence } from "../verdict.ts";
import type { CounterRow } from "./counter-rows.ts";

/** Requests of one version with exactly one signature, in one minute (or, summed, over the window). */
export type SignatureRow = { version: string; minute: number; partial: number; signature: string; count: number };

/** One row of `main_traffic`: main's own requests in one minute (or hour, rolled up). */
export type MainTrafficRow = {
  version: string;
  minute: number;
  requests: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  latency: string;
};

/**
 * What a report reads: counters and signatures compared with `baseline`
 * (of `versions`, or of every version when null) and the noise of twin
 * copies to `baseline` over the minutes [since, hi); main's own traffic, whichever version was main,
 * over the whole window [lo, hi).
 */
export interface WindowQuery {
  lo: number;
  hi: number;
  since: number;
  baseline: string;
  versions: string[] | null;
  /** Signatures per minute (for a series), or summed over the window. */
  perMinute: boolean;
}

/**
 * The rows of a window as one ledger object holds them. Rows of several
 * shards are simply put together: every number in them is a sum, and rows
 * of the same minute add up wherever they were written.
 */
export interface WindowRows {
  counters: CounterRow[];
  signatures: SignatureRow[];
  /** Requests with field detail per (version, route), summed over the window. */
  routes: RouteRow[];
  noise: { sampled: number; routes: Record<string, number>; paths: Record<string, number> };
  mainTraffic: MainTrafficRow[];
}

export type RouteRow = { version: string; route: string; requests: number };

const addInto = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
};

export function mergeWindows(parts: WindowRows[]): WindowRows {
  if (parts.length === 1 && parts[0]) return parts[0];
  const routes: Record<string, number> = {};
  const paths: Record<string, number> = {};
  for (const part of parts) {
    addInto(routes, part.noise.routes);
    addInto(paths, part.noise.paths);
  }
  return {
    counters: parts.flatMap((part) => part.counters),
    signatures: parts.flatMap((part) => part.signatures),
    routes: parts.flatMap((part) => part.routes),
    noise: { sampled: parts.reduce((sum, part) => sum + part.noise.sampled, 0), routes, paths },
    mainTraffic: parts.flatMap((part) => part.mainTraffic),
  };
}

/** The versions compared with the window's baseline, in order. */
export function versionsOf(rows: WindowRows): string[] {
  return [...new Set(rows.counters.map((row) => row.version))].sort();
}

/** The window's first minute with evidence against its baseline `main` or traffic of it, if any. */
export function firstMinuteOf(main: string, rows: WindowRows): number | undefined {
  let first: number | undefined;
  for (const row of rows.counters) first = Math.min(first ?? row.minute, row.minute);
  for (const row of rows.mainTraffic) {
    if (row.version === main) first = Math.min(first ?? row.minute, row.minute);
  }
  return first;
}

/** Main's own traffic of one version from the minute `since` on. */
export function mainTrafficOf(version: string, since: number, rows: WindowRows): MainTrafficReport {
  const latency = new LatencyHistogram();
  const traffic: MainTrafficReport = {
    requests: 0,
    status: { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 },
    latencyMs: latency.summary(),
  };
  for (const row of rows.mainTraffic) {
    if (row.version !== version || row.minute < since) continue;
    traffic.requests += row.requests;
    traffic.status["2xx"] += row.s2xx;
    traffic.status["3xx"] += row.s3xx;
    traffic.status["4xx"] += row.s4xx;
    traffic.status["5xx"] += row.s5xx;
    latency.mergeJson(JSON.parse(row.latency) as HistogramJson);
  }
  traffic.latencyMs = latency.summary();
  return traffic;
}

/** A version's evidence before any row of the window is added. */
export function emptyEvidence(version: string): ShadowEvidence {
  return {
    version,
    ...emptyCounters(),
    latencyMain: new LatencyHistogram(),
    latencyShadow: new LatencyHistogram(),
    signatures: new Map(),
    partialSignatures: new Map(),
    routes: new Map(),
  };
}

/** One version's evidence over the window's rows. */
export function evidenceOf(version: string, rows: WindowRows): ShadowEvidence {
  const evidence = emptyEvidence(version);
  for (const row of rows.counters) {
    if (row.version !== version) continue;
    addCounters(evidence, row);
    evidence.latencyMain.mergeJson(JSON.parse(row.latencyMain) as HistogramJson);
    evidence.latencyShadow.mergeJson(JSON.parse(row.latencyShadow) as HistogramJson);
  }
  for (const row of rows.signatures) {
    if (row.version !== version) continue;
    const signatures = row.partial ? evidence.partialSignatures : evidence.signatures;
    signatures.set(row.signature, (signatures.get(row.signature) ?? 0) + row.count);
  }
  addRoutes(evidence, version, rows);
  return evidence;
}

/** Adds a version's requests per route over the window's rows. */
export function addRoutes(evidence: ShadowEvidence, version: string, rows: WindowRows): void {
  for (const row of rows.routes) {
    if (row.version === version) evidence.routes.set(row.route, (evidence.routes.get(row.route) ?? 0) + row.requests);
  }
}

export function noiseOf(rows: Pick<WindowRows, "noise">): NoiseEvidence {
  return {
    sampled: rows.noise.sampled,
    routes: new Map(Object.entries(rows.noise.routes)),
    paths: new Map(Object.entries(rows.noise.paths)),
  };
}

/** ShadowEvidence as it crosses from one ledger object to another (histograms and maps as plain data). */
interface EvidenceJson
  extends Omit<ShadowEvidence, "latencyMain" | "latencyShadow" | "signatures" | "partialSignatures" | "routes"> {
  latencyMain: HistogramJson;
  latencyShadow: HistogramJson;
  signatures: Record<string, number>;
  partialSignatures: Record<string, number>;
  routes: Record<string, number>;
}

export function evidenceToJson(evidence: ShadowEvidence): EvidenceJson {
  return {
    ...evidence,
    latencyMain: evidence.latencyMain.toJson(),
    latencyShadow: evidence.latencyShadow.toJson(),
    signatures: Object.fromEntries(evidence.signatures),
    partialSignatures: Object.fromEntries(evidence.partialSignatures),
    routes: Object.fromEntries(evidence.routes),
  };
}

/** Adds another shard's evidence of the same version: counts and histograms are sums. */
export function addEvidence(evidence: ShadowEvidence, other: EvidenceJson): void {
  addCounters(evidence, other);
  evidence.latencyMain.mergeJson(other.latencyMain);
  evidence.latencyShadow.mergeJson(other.latencyShadow);
  for (const [signature, count] of Object.entries(other.signatures)) {
    evidence.signatures.set(signature, (evidence.signatures.get(signature) ?? 0) + count);
  }
  for (const [signature, count] of Object.entries(other.partialSignatures)) {
    evidence.partialSignatures.set(signature, (evidence.partialSignatures.get(signature) ?? 0) + count);
  }
  for (const [route, count] of Object.entries(other.routes ?? {})) {
    evidence.routes.set(route, (evidence.routes.get(route) ?? 0) + count);
  }
}

/** Lifetime totals of some versions and of noise, as one shard holds them. */
export interface LifetimeJson {
  /** With each version's outcomes as fixed when its copies were recorded (see outcomes.ts). */
  versions: (EvidenceJson & { outcomes: { same: number; different: number; notCompared: number } })[];
  noise: WindowRows["noise"];
}

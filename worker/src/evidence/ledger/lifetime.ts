import type { MinuteCounts } from "../batch.ts";
import { COUNTER_NAMES, type Counters } from "../counters.ts";
import { type HistogramJson, LatencyHistogram } from "../histogram.ts";
import {
  type EvidencePolicy,
  type EvidenceReport,
  type NoiseEvidence,
  type ShadowEvidence,
  type ShadowReport,
  shadowReport,
  type Verdict,
} from "../verdict.ts";
import {
  addCountersSql,
  COUNTER_COLUMNS_SQL,
  type CounterRow,
  counterValues,
  mergedJson,
  selectCounters,
} from "./counter-rows.ts";
import { fixOutcomes, forgetOutcomes, lifetimeOutcomes, OUTCOME_TABLES, OUTCOMES_SCHEMA } from "./outcomes.ts";
import { addEvidence, emptyEvidence, evidenceToJson, type LifetimeJson, mergeWindows, noiseOf } from "./window.ts";

/*
 * Lifetime totals for Prometheus: a counter must never go down while its
 * version lives, but the ledger prunes minutes after 7 days. So each batch
 * is also added here, in the same transaction as its minute rows, and only
 * forgetting a version (or destroying the ledger) removes its totals.
 */

export const LIFETIME_SCHEMA = `
CREATE TABLE IF NOT EXISTS lifetime (
  version TEXT PRIMARY KEY, ${COUNTER_COLUMNS_SQL}, latency_main TEXT NOT NULL, latency_shadow TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lifetime_signatures (
  version TEXT NOT NULL, partial INTEGER NOT NULL, signature TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (version, partial, signature));
CREATE TABLE IF NOT EXISTS lifetime_noise (id INTEGER PRIMARY KEY CHECK (id = 1), sampled INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lifetime_noise_routes (route TEXT PRIMARY KEY, sampled INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lifetime_noise_paths (field TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lifetime_routes (
  version TEXT NOT NULL, route TEXT NOT NULL, requests INTEGER NOT NULL, PRIMARY KEY (version, route));
${OUTCOMES_SCHEMA}`;

/** The lifetime tables, reset with the rest of a ledger of an older layout. */
export const LIFETIME_TABLES = [
  "lifetime",
  "lifetime_signatures",
  "lifetime_noise",
  "lifetime_noise_routes",
  "lifetime_noise_paths",
  "lifetime_routes",
  ...OUTCOME_TABLES,
];

/** Signature rows a version keeps over its life; past it, requests count as `unrecorded`, as in a minute. */
const MAX_LIFETIME_SIGNATURES = 2_000;

/** A version's lifetime row: a counters row without a baseline or minute. */
type LifetimeRow = Omit<CounterRow, "baseline" | "minute">;

const ADD_LIFETIME = addCountersSql("lifetime", ["version"]);

/**
 * Adds one (version, minute) of counters to the version's totals, its
 * signatures already bounded as the minute rows keep them; call inside the
 * transaction that writes those rows.
 */
export function addToLifetime(sql: SqlStorage, m: MinuteCounts): void {
  const stored = sql
    .exec<{ latency_main: string; latency_shadow: string }>(
      "SELECT latency_main, latency_shadow FROM lifetime WHERE version = ?",
      m.version,
    )
    .toArray()[0];
  let { compared, notCompared, unrecorded } = m;
  let rows = sql
    .exec<{ n: number }>("SELECT COUNT(*) AS n FROM lifetime_signatures WHERE version = ?", m.version)
    .one().n;
  const keep = (partial: 0 | 1, signatures: Record<string, number>) => {
    for (const [signature, count] of Object.entries(signatures)) {
      const known =
        sql
          .exec(
            "SELECT 1 FROM lifetime_signatures WHERE version = ? AND partial = ? AND signature = ?",
            m.version,
            partial,
            signature,
          )
          .toArray().length > 0;
      if (!known && rows >= MAX_LIFETIME_SIGNATURES) {
        unrecorded += count;
        if (partial === 0) {
          compared -= count;
          notCompared += count;
        }
        continue;
      }
      if (!known) rows++;
      sql.exec(
        `INSERT INTO lifetime_signatures VALUES (?, ?, ?, ?)
         ON CONFLICT (version, partial, signature) DO UPDATE SET count = count + excluded.count`,
        m.version,
        partial,
        signature,
        count,
      );
    }
  };
  keep(0, m.signatures);
  keep(1, m.partialSignatures);
  for (const [route, requests] of Object.entries(m.routes)) {
    sql.exec(
      `INSERT INTO lifetime_routes VALUES (?, ?, ?)
       ON CONFLICT (version, route) DO UPDATE SET requests = requests + excluded.requests`,
      m.version,
      route,
      requests,
    );
  }
  fixOutcomes(sql, m);
  sql.exec(
    ADD_LIFETIME,
    m.version,
    ...counterValues({ ...m, compared, notCompared, unrecorded }),
    mergedJson(stored?.latency_main, m.latencyMain),
    mergedJson(stored?.latency_shadow, m.latencyShadow),
  );
}

/** Adds one minute of noise (its routes and fields already bounded) to the name's totals. */
export function addNoiseToLifetime(sql: SqlStorage, noise: NoiseEvidence): void {
  sql.exec(
    "INSERT INTO lifetime_noise VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET sampled = sampled + excluded.sampled",
    noise.sampled,
  );
  for (const [route, sampled] of noise.routes) {
    sql.exec(
      "INSERT INTO lifetime_noise_routes VALUES (?, ?) ON CONFLICT (route) DO UPDATE SET sampled = sampled + excluded.sampled",
      route,
      sampled,
    );
  }
  for (const [field, count] of noise.paths) {
    sql.exec(
      "INSERT INTO lifetime_noise_paths VALUES (?, ?) ON CONFLICT (field) DO UPDATE SET count = count + excluded.count",
      field,
      count,
    );
  }
}

/** A forgotten version's counters start again from zero, as its evidence does. */
export function forgetLifetime(sql: SqlStorage, version: string): void {
  sql.exec("DELETE FROM lifetime WHERE version = ?", version);
  sql.exec("DELETE FROM lifetime_signatures WHERE version = ?", version);
  sql.exec("DELETE FROM lifetime_routes WHERE version = ?", version);
  forgetOutcomes(sql, version);
}

/** Everything a version was ever seen to do, as the verdict's rules read a window. */
function lifetimeEvidence(sql: SqlStorage, version: string): ShadowEvidence {
  const row = sql.exec<LifetimeRow>(`${selectCounters("lifetime", "version")} WHERE version = ?`, version).toArray()[0];
  const signatures = new Map<string, number>();
  const partialSignatures = new Map<string, number>();
  for (const s of sql.exec<{ partial: number; signature: string; count: number }>(
    "SELECT partial, signature, count FROM lifetime_signatures WHERE version = ?",
    version,
  )) {
    (s.partial ? partialSignatures : signatures).set(s.signature, s.count);
  }
  const routes = new Map<string, number>();
  for (const r of sql.exec<{ route: string; requests: number }>(
    "SELECT route, requests FROM lifetime_routes WHERE version = ?",
    version,
  )) {
    routes.set(r.route, r.requests);
  }
  const histogram = (json: string | undefined) =>
    LatencyHistogram.fromJson(json === undefined ? undefined : (JSON.parse(json) as HistogramJson));
  const counters = {} as Counters;
  for (const name of COUNTER_NAMES) counters[name] = row?.[name] ?? 0;
  return {
    version,
    ...counters,
    latencyMain: histogram(row?.latencyMain),
    latencyShadow: histogram(row?.latencyShadow),
    signatures,
    partialSignatures,
    routes,
  };
}

function lifetimeNoise(sql: SqlStorage): NoiseEvidence {
  const sampled = sql.exec<{ sampled: number }>("SELECT sampled FROM lifetime_noise WHERE id = 1").toArray()[0];
  const routes = new Map<string, number>();
  for (const row of sql.exec<{ route: string; sampled: number }>("SELECT route, sampled FROM lifetime_noise_routes")) {
    routes.set(row.route, row.sampled);
  }
  const paths = new Map<string, number>();
  for (const row of sql.exec<{ field: string; count: number }>("SELECT field, count FROM lifetime_noise_paths")) {
    paths.set(row.field, row.count);
  }
  return { sampled: sampled?.sampled ?? 0, routes, paths };
}

/** One shadow as Prometheus sees it: lifetime counts and fields, lifetime latency, and the current verdict. */
export interface VersionMetrics {
  version: string;
  /** The verdict's rules over the version's whole life: the counts and fields the counters expose. */
  lifetime: Pick<ShadowReport, "requests" | "errors" | "fields">;
  latencyMain: HistogramJson;
  latencyShadow: HistogramJson;
  /** Over the last hour, as the gate judges. */
  verdict: Verdict;
}

/** One shard's lifetime totals of `versions` and of noise, to be merged with the other shards'. */
export function lifetimeParts(sql: SqlStorage, versions: string[]): LifetimeJson {
  const noise = lifetimeNoise(sql);
  return {
    versions: versions.map((version) => ({
      ...evidenceToJson(lifetimeEvidence(sql, version)),
      outcomes: lifetimeOutcomes(sql, version),
    })),
    noise: {
      sampled: noise.sampled,
      routes: Object.fromEntries(noise.routes),
      paths: Object.fromEntries(noise.paths),
    },
  };
}

/**
 * The metrics of the report's shadows over the lifetime totals of every
 * shard (`own` first, then `others`). Same, different and notCompared are
 * the outcomes fixed when each copy was recorded (see outcomes.ts): a
 * counter never goes down when the ignore list or the noise changes.
 */
export function metricsOf(
  own: LifetimeJson,
  others: LifetimeJson[],
  policy: EvidencePolicy,
  hour: EvidenceReport,
): VersionMetrics[] {
  const parts = [own, ...others];
  const noise = noiseOf(
    mergeWindows(
      parts.map((part) => ({ counters: [], signatures: [], routes: [], mainTraffic: [], noise: part.noise })),
    ),
  );
  return hour.shadows.map(({ version, verdict }) => {
    const evidence = emptyEvidence(version);
    const outcomes = { same: 0, different: 0, notCompared: 0 };
    for (const part of parts) {
      const stored = part.versions.find((v) => v.version === version);
      if (!stored) continue;
      addEvidence(evidence, stored);
      outcomes.same += stored.outcomes.same;
      outcomes.different += stored.outcomes.different;
      outcomes.notCompared += stored.outcomes.notCompared;
    }
    const { requests, errors, fields } = shadowReport(evidence, noise, policy);
    const fixed = { ...requests, ...outcomes, compared: outcomes.same + outcomes.different };
    return {
      version,
      lifetime: { requests: fixed, errors, fields },
      latencyMain: evidence.latencyMain.toJson(),
      latencyShadow: evidence.latencyShadow.toJson(),
      verdict,
    };
  });
}

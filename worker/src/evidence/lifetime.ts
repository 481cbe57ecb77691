import type { EvidenceBatch } from "./batch.ts";
import { type HistogramJson, LatencyHistogram } from "./histogram.ts";
import {
  type EvidencePolicy,
  type EvidenceReport,
  type NoiseEvidence,
  type ShadowEvidence,
  type ShadowReport,
  shadowReport,
  type Verdict,
} from "./verdict.ts";

/*
 * Lifetime totals for Prometheus: a counter must never go down while its
 * version lives, but the ledger prunes minutes after 7 days. So each batch
 * is also added here, in the same transaction as its minute rows, and only
 * forgetting a version (or destroying the ledger) removes its totals.
 */

export const LIFETIME_SCHEMA = `
CREATE TABLE IF NOT EXISTS lifetime (
  version TEXT PRIMARY KEY,
  mirrored INTEGER NOT NULL, compared INTEGER NOT NULL, not_compared INTEGER NOT NULL, skipped INTEGER NOT NULL,
  errors_main INTEGER NOT NULL, errors_shadow INTEGER NOT NULL,
  latency_main TEXT NOT NULL, latency_shadow TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lifetime_signatures (
  version TEXT NOT NULL, signature TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (version, signature));
CREATE TABLE IF NOT EXISTS lifetime_noise (id INTEGER PRIMARY KEY CHECK (id = 1), sampled INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lifetime_noise_paths (path TEXT PRIMARY KEY, count INTEGER NOT NULL);
`;

type LifetimeRow = {
  mirrored: number;
  compared: number;
  not_compared: number;
  skipped: number;
  errors_main: number;
  errors_shadow: number;
  latency_main: string;
  latency_shadow: string;
};

function merged(stored: string | undefined, added: HistogramJson): string {
  const histogram = LatencyHistogram.fromJson(stored === undefined ? undefined : (JSON.parse(stored) as HistogramJson));
  histogram.mergeJson(added);
  return JSON.stringify(histogram.toJson());
}

/** Adds a batch to the totals; call inside the transaction that writes its minute rows. */
export function addToLifetime(sql: SqlStorage, batch: EvidenceBatch): void {
  for (const m of batch.shadows) {
    const stored = sql
      .exec<Pick<LifetimeRow, "latency_main" | "latency_shadow">>(
        "SELECT latency_main, latency_shadow FROM lifetime WHERE version = ?",
        m.version,
      )
      .toArray()[0];
    sql.exec(
      `INSERT INTO lifetime VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (version) DO UPDATE SET
         mirrored = mirrored + excluded.mirrored, compared = compared + excluded.compared,
         not_compared = not_compared + excluded.not_compared, skipped = skipped + excluded.skipped,
         errors_main = errors_main + excluded.errors_main, errors_shadow = errors_shadow + excluded.errors_shadow,
         latency_main = excluded.latency_main, latency_shadow = excluded.latency_shadow`,
      m.version,
      m.mirrored,
      m.compared,
      m.notCompared,
      m.skipped,
      m.errorsMain,
      m.errorsShadow,
      merged(stored?.latency_main, m.latencyMain),
      merged(stored?.latency_shadow, m.latencyShadow),
    );
    for (const [signature, count] of Object.entries(m.signatures)) {
      sql.exec(
        `INSERT INTO lifetime_signatures VALUES (?, ?, ?)
         ON CONFLICT (version, signature) DO UPDATE SET count = count + excluded.count`,
        m.version,
        signature,
        count,
      );
    }
  }
  for (const n of batch.noise) {
    sql.exec(
      "INSERT INTO lifetime_noise VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET sampled = sampled + excluded.sampled",
      n.sampled,
    );
    for (const [path, count] of Object.entries(n.paths)) {
      sql.exec(
        "INSERT INTO lifetime_noise_paths VALUES (?, ?) ON CONFLICT (path) DO UPDATE SET count = count + excluded.count",
        path,
        count,
      );
    }
  }
}

/** A forgotten version's counters start again from zero, as its evidence does. */
export function forgetLifetime(sql: SqlStorage, version: string): void {
  sql.exec("DELETE FROM lifetime WHERE version = ?", version);
  sql.exec("DELETE FROM lifetime_signatures WHERE version = ?", version);
}

/** Everything a version was ever seen to do, as the verdict's rules read a window. */
export function lifetimeEvidence(sql: SqlStorage, version: string): ShadowEvidence {
  const row = sql.exec<LifetimeRow>("SELECT * FROM lifetime WHERE version = ?", version).toArray()[0];
  const signatures = new Map<string, number>();
  for (const s of sql.exec<{ signature: string; count: number }>(
    "SELECT signature, count FROM lifetime_signatures WHERE version = ?",
    version,
  )) {
    signatures.set(s.signature, s.count);
  }
  const histogram = (json: string | undefined) =>
    LatencyHistogram.fromJson(json === undefined ? undefined : (JSON.parse(json) as HistogramJson));
  return {
    version,
    mirrored: row?.mirrored ?? 0,
    compared: row?.compared ?? 0,
    notCompared: row?.not_compared ?? 0,
    skipped: row?.skipped ?? 0,
    errorsMain: row?.errors_main ?? 0,
    errorsShadow: row?.errors_shadow ?? 0,
    latencyMain: histogram(row?.latency_main),
    latencyShadow: histogram(row?.latency_shadow),
    signatures,
  };
}

export function lifetimeNoise(sql: SqlStorage): NoiseEvidence {
  const sampled = sql.exec<{ sampled: number }>("SELECT sampled FROM lifetime_noise WHERE id = 1").toArray()[0];
  const paths = new Map<string, number>();
  for (const row of sql.exec<{ path: string; count: number }>("SELECT path, count FROM lifetime_noise_paths")) {
    paths.set(row.path, row.count);
  }
  return { sampled: sampled?.sampled ?? 0, paths };
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

export function versionMetrics(sql: SqlStorage, policy: EvidencePolicy, hour: EvidenceReport): VersionMetrics[] {
  const noise = lifetimeNoise(sql);
  return hour.shadows.map(({ version, verdict }) => {
    const evidence = lifetimeEvidence(sql, version);
    const { requests, errors, fields } = shadowReport(evidence, noise, policy);
    return {
      version,
      lifetime: { requests, errors, fields },
      latencyMain: evidence.latencyMain.toJson(),
      latencyShadow: evidence.latencyShadow.toJson(),
      verdict,
    };
  });
}

import { COUNTER_COLUMNS_SQL } from "./counter-rows.ts";
import { LIFETIME_SCHEMA, LIFETIME_TABLES } from "./lifetime.ts";

/** Bumped when the tables change: a ledger written by an older gateway is reset, not misread. */
const SCHEMA_VERSION = 8;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ledger_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
-- baseline: the main version the shadow was compared with. Evidence against two mains is never mixed.
CREATE TABLE IF NOT EXISTS counters (
  version TEXT NOT NULL, baseline TEXT NOT NULL, minute INTEGER NOT NULL, ${COUNTER_COLUMNS_SQL},
  latency_main TEXT NOT NULL, latency_shadow TEXT NOT NULL, PRIMARY KEY (version, baseline, minute));
-- partial = 1: requests answered but not body-compared, whose status or headers differed.
CREATE TABLE IF NOT EXISTS signatures (
  version TEXT NOT NULL, baseline TEXT NOT NULL, minute INTEGER NOT NULL, partial INTEGER NOT NULL,
  signature TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (version, baseline, minute, partial, signature));
-- Requests with field detail per (version, baseline, minute, route): a field's rate on a route is over these.
CREATE TABLE IF NOT EXISTS route_counts (
  version TEXT NOT NULL, baseline TEXT NOT NULL, minute INTEGER NOT NULL, route TEXT NOT NULL,
  requests INTEGER NOT NULL, PRIMARY KEY (version, baseline, minute, route));
-- Main's own traffic per (version serving as main, minute): s5xx includes a main that never answered.
CREATE TABLE IF NOT EXISTS main_traffic (
  version TEXT NOT NULL, minute INTEGER NOT NULL, requests INTEGER NOT NULL,
  s2xx INTEGER NOT NULL, s3xx INTEGER NOT NULL, s4xx INTEGER NOT NULL, s5xx INTEGER NOT NULL,
  latency TEXT NOT NULL, PRIMARY KEY (version, minute));
-- When each main took over (ms since the epoch): where the current baseline's evidence starts.
CREATE TABLE IF NOT EXISTS mains (since INTEGER PRIMARY KEY, main TEXT NOT NULL);
-- The distinct fields (path kind) each version has recorded, capped per version; '' is noise, '\troutes' the routes.
CREATE TABLE IF NOT EXISTS fields (
  version TEXT NOT NULL, field TEXT NOT NULL, last_minute INTEGER NOT NULL, PRIMARY KEY (version, field));
-- Noise is main against main, per version that was main: a report reads its baseline's noise only.
-- main is '' for twins an older isolate sent without naming it.
CREATE TABLE IF NOT EXISTS noise (
  main TEXT NOT NULL, minute INTEGER NOT NULL, sampled INTEGER NOT NULL, PRIMARY KEY (main, minute));
CREATE TABLE IF NOT EXISTS noise_routes (
  main TEXT NOT NULL, minute INTEGER NOT NULL, route TEXT NOT NULL, sampled INTEGER NOT NULL,
  PRIMARY KEY (main, minute, route));
-- field: route, a tab, then path and kind.
CREATE TABLE IF NOT EXISTS noise_paths (
  main TEXT NOT NULL, minute INTEGER NOT NULL, field TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (main, minute, field));
CREATE TABLE IF NOT EXISTS samples (
  id INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT NOT NULL, minute INTEGER NOT NULL, sample TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sample_paths (
  version TEXT NOT NULL, path TEXT NOT NULL, sample_id INTEGER NOT NULL, PRIMARY KEY (version, path, sample_id));
CREATE INDEX IF NOT EXISTS samples_by_minute ON samples (minute);
-- Pruning deletes by minute and by sample: ranges and lookups, not scans.
CREATE INDEX IF NOT EXISTS counters_by_minute ON counters (minute);
CREATE INDEX IF NOT EXISTS signatures_by_minute ON signatures (minute);
CREATE INDEX IF NOT EXISTS route_counts_by_minute ON route_counts (minute);
CREATE INDEX IF NOT EXISTS noise_by_minute ON noise (minute);
CREATE INDEX IF NOT EXISTS noise_routes_by_minute ON noise_routes (minute);
CREATE INDEX IF NOT EXISTS noise_paths_by_minute ON noise_paths (minute);
CREATE INDEX IF NOT EXISTS fields_by_last_minute ON fields (last_minute);
CREATE INDEX IF NOT EXISTS sample_paths_by_sample ON sample_paths (sample_id);
-- In shard 0 only: the most shards any writer or reader of this name has used, so reads cover them all.
CREATE TABLE IF NOT EXISTS shard_span (id INTEGER PRIMARY KEY CHECK (id = 1), shards INTEGER NOT NULL);
`;

/** Every table of evidence, dropped when an older layout is found. */
const EVIDENCE_TABLES = [
  "counters",
  "signatures",
  "main_traffic",
  "mains",
  "fields",
  "noise",
  "noise_routes",
  "noise_paths",
  "route_counts",
  "sample_paths",
  "samples",
  ...LIFETIME_TABLES,
];

/** Tables a gateway of this layout once kept and no longer does: dropped where found, the evidence kept. */
const RETIRED_TABLES = ["writes"];

/**
 * Creates the ledger's tables, and resets a ledger whose tables an older
 * gateway wrote (a user's `.wrangler` state, say): its rows would be
 * misread, and evidence is best effort and seven days long, so it starts
 * afresh rather than throw.
 */
export function prepareSchema(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  const tables = new Set(
    sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((row) => row.name),
  );
  for (const table of RETIRED_TABLES.filter((t) => tables.has(t))) sql.exec(`DROP TABLE ${table}`);
  const stored = tables.has("ledger_schema")
    ? sql.exec<{ version: number }>("SELECT version FROM ledger_schema").toArray()[0]?.version
    : undefined;
  if (stored === SCHEMA_VERSION) {
    // Tables and indexes added since are created IF NOT EXISTS: the evidence stays.
    sql.exec(SCHEMA + LIFETIME_SCHEMA);
    return;
  }
  const old = EVIDENCE_TABLES.filter((table) => tables.has(table));
  if (old.length > 0) {
    console.log(JSON.stringify({ event: "ledger_reset", from: stored ?? 1, to: SCHEMA_VERSION }));
    storage.transactionSync(() => {
      for (const table of old) sql.exec(`DROP TABLE ${table}`);
    });
  }
  sql.exec(SCHEMA + LIFETIME_SCHEMA);
  sql.exec(
    "INSERT INTO ledger_schema VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version",
    SCHEMA_VERSION,
  );
}

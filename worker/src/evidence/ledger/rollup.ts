import { addCounters } from "../counters.ts";
import type { HistogramJson } from "../histogram.ts";
import { ADD_COUNTERS, type CounterRow, counterValues, mergedJson, SELECT_COUNTERS } from "./counter-rows.ts";
import type { MainTrafficRow } from "./window.ts";

const MINUTE_MS = 60_000;
const HOUR_MINUTES = 60;
/** Evidence older than this is pruned. */
export const RETENTION_MS = 7 * 24 * 60 * MINUTE_MS;
/** Minutes older than this are rolled up into hours (at the alarm, hourly), so a week reads about 400 rows. */
export const ROLLUP_AFTER_MS = 3 * 60 * MINUTE_MS;

/** Main's own counts, summed when minutes roll up. */
const MAIN_TRAFFIC_COLUMNS = ["requests", "s2xx", "s3xx", "s4xx", "s5xx"] as const;

const hourOf = (minute: number) => minute - (minute % HOUR_MINUTES);
const mergedText = (stored: string, added: string) => mergedJson(stored, JSON.parse(added) as HistogramJson);

/**
 * Rolls minutes older than ROLLUP_AFTER_MS up into hours and deletes what
 * is older than RETENTION_MS; call inside one transaction.
 */
export function pruneAndRollUp(sql: SqlStorage, now: number): void {
  const cutoff = Math.floor((now - RETENTION_MS) / MINUTE_MS);
  rollUp(sql, Math.floor((now - ROLLUP_AFTER_MS) / MINUTE_MS));
  sql.exec("DELETE FROM counters WHERE minute < ?", cutoff);
  sql.exec("DELETE FROM signatures WHERE minute < ?", cutoff);
  sql.exec("DELETE FROM route_counts WHERE minute < ?", cutoff);
  sql.exec("DELETE FROM noise_routes WHERE minute < ?", cutoff);
  sql.exec("DELETE FROM fields WHERE last_minute < ?", cutoff);
  sql.exec("DELETE FROM noise WHERE minute < ?", cutoff);
  sql.exec("DELETE FROM noise_paths WHERE minute < ?", cutoff);
  sql.exec("DELETE FROM main_traffic WHERE minute < ?", cutoff);
  // The latest promotion stays: it says since when the current main is the baseline.
  sql.exec("DELETE FROM mains WHERE since < ? AND since < (SELECT MAX(since) FROM mains)", cutoff * MINUTE_MS);
  sql.exec("DELETE FROM sample_paths WHERE sample_id IN (SELECT id FROM samples WHERE minute < ?)", cutoff);
  sql.exec("DELETE FROM samples WHERE minute < ?", cutoff);
}

/**
 * Folds every minute before `before` into the row of its hour (the minute
 * the hour starts): counters and noise are sums and histograms merge, so
 * totals stay the same. A window whose edge falls inside a rolled-up hour
 * takes that hour whole when the hour starts inside it; reports of the last
 * few hours (the gate's window) are not affected.
 */
function rollUp(sql: SqlStorage, before: number): void {
  rollUpCounters(sql, before);
  sql.exec(
    `INSERT INTO signatures SELECT version, baseline, minute - minute % 60, partial, signature, SUM(count)
     FROM signatures WHERE minute < ? AND minute % 60 != 0
     GROUP BY version, baseline, minute - minute % 60, partial, signature
     ON CONFLICT (version, baseline, minute, partial, signature) DO UPDATE SET count = count + excluded.count`,
    before,
  );
  sql.exec("DELETE FROM signatures WHERE minute < ? AND minute % 60 != 0", before);
  sql.exec(
    `INSERT INTO route_counts SELECT version, baseline, minute - minute % 60, route, SUM(requests)
     FROM route_counts WHERE minute < ? AND minute % 60 != 0
     GROUP BY version, baseline, minute - minute % 60, route
     ON CONFLICT (version, baseline, minute, route) DO UPDATE SET requests = requests + excluded.requests`,
    before,
  );
  sql.exec("DELETE FROM route_counts WHERE minute < ? AND minute % 60 != 0", before);
  sql.exec(
    `INSERT INTO noise_routes SELECT main, minute - minute % 60, route, SUM(sampled) FROM noise_routes
     WHERE minute < ? AND minute % 60 != 0 GROUP BY main, minute - minute % 60, route
     ON CONFLICT (main, minute, route) DO UPDATE SET sampled = sampled + excluded.sampled`,
    before,
  );
  sql.exec("DELETE FROM noise_routes WHERE minute < ? AND minute % 60 != 0", before);
  rollUpMainTraffic(sql, before);
  sql.exec(
    `INSERT INTO noise SELECT main, minute - minute % 60, SUM(sampled) FROM noise
     WHERE minute < ? AND minute % 60 != 0 GROUP BY main, minute - minute % 60
     ON CONFLICT (main, minute) DO UPDATE SET sampled = sampled + excluded.sampled`,
    before,
  );
  sql.exec("DELETE FROM noise WHERE minute < ? AND minute % 60 != 0", before);
  sql.exec(
    `INSERT INTO noise_paths SELECT main, minute - minute % 60, field, SUM(count) FROM noise_paths
     WHERE minute < ? AND minute % 60 != 0 GROUP BY main, minute - minute % 60, field
     ON CONFLICT (main, minute, field) DO UPDATE SET count = count + excluded.count`,
    before,
  );
  sql.exec("DELETE FROM noise_paths WHERE minute < ? AND minute % 60 != 0", before);
}

function rollUpCounters(sql: SqlStorage, before: number): void {
  const hours = new Map<string, CounterRow>();
  for (const row of sql.exec<CounterRow>(`${SELECT_COUNTERS} WHERE minute < ? AND minute % 60 != 0`, before)) {
    const key = JSON.stringify([row.version, row.baseline, hourOf(row.minute)]);
    const hour = hours.get(key);
    if (!hour) {
      hours.set(key, { ...row, minute: hourOf(row.minute) });
      continue;
    }
    addCounters(hour, row);
    hour.latencyMain = mergedText(hour.latencyMain, row.latencyMain);
    hour.latencyShadow = mergedText(hour.latencyShadow, row.latencyShadow);
  }
  for (const hour of hours.values()) {
    const stored = sql
      .exec<{ latency_main: string; latency_shadow: string }>(
        "SELECT latency_main, latency_shadow FROM counters WHERE version = ? AND baseline = ? AND minute = ?",
        hour.version,
        hour.baseline,
        hour.minute,
      )
      .toArray()[0];
    sql.exec(
      ADD_COUNTERS,
      hour.version,
      hour.baseline,
      hour.minute,
      ...counterValues(hour),
      stored ? mergedText(stored.latency_main, hour.latencyMain) : hour.latencyMain,
      stored ? mergedText(stored.latency_shadow, hour.latencyShadow) : hour.latencyShadow,
    );
  }
  sql.exec("DELETE FROM counters WHERE minute < ? AND minute % 60 != 0", before);
}

/** Main's own traffic rolls up like counters: counts add up, histograms merge, per (version, hour). */
function rollUpMainTraffic(sql: SqlStorage, before: number): void {
  const hours = new Map<string, MainTrafficRow>();
  for (const row of sql.exec<MainTrafficRow>(
    "SELECT * FROM main_traffic WHERE minute < ? AND minute % 60 != 0",
    before,
  )) {
    const minute = hourOf(row.minute);
    const key = JSON.stringify([row.version, minute]);
    const hour = hours.get(key);
    if (!hour) {
      hours.set(key, { ...row, minute });
      continue;
    }
    for (const column of MAIN_TRAFFIC_COLUMNS) hour[column] += row[column];
    hour.latency = mergedText(hour.latency, row.latency);
  }
  for (const hour of hours.values()) {
    const stored = sql
      .exec<{ latency: string }>(
        "SELECT latency FROM main_traffic WHERE version = ? AND minute = ?",
        hour.version,
        hour.minute,
      )
      .toArray()[0];
    sql.exec(
      `INSERT INTO main_traffic VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (version, minute) DO UPDATE SET
         requests = requests + excluded.requests, s2xx = s2xx + excluded.s2xx, s3xx = s3xx + excluded.s3xx,
         s4xx = s4xx + excluded.s4xx, s5xx = s5xx + excluded.s5xx, latency = excluded.latency`,
      hour.version,
      hour.minute,
      ...MAIN_TRAFFIC_COLUMNS.map((column) => hour[column]),
      stored ? mergedText(stored.latency, hour.latency) : hour.latency,
    );
  }
  sql.exec("DELETE FROM main_traffic WHERE minute < ? AND minute % 60 != 0", before);
}

import { COUNTER_NAMES, type Counters } from "../counters.ts";
import { type HistogramJson, LatencyHistogram } from "../histogram.ts";

/*
 * The one mapping between Counters and SQL: each counter's column, read
 * back under its own name, so rows come out of SQLite as Counters.
 */

const COLUMN: Record<keyof Counters, string> = {
  mirrored: "mirrored",
  compared: "compared",
  notCompared: "not_compared",
  errorsShadow: "errors_shadow",
  down: "down",
  skipped: "skipped",
  unrecorded: "unrecorded",
  canary: "canary",
  errorsMain: "errors_main",
  errorsShadowOnly: "errors_shadow_only",
  errorsMainOnly: "errors_main_only",
};

/** The counters' column definitions, for a CREATE TABLE. */
export const COUNTER_COLUMNS_SQL = COUNTER_NAMES.map((name) => `${COLUMN[name]} INTEGER NOT NULL`).join(", ");

/** One row of `counters` as read back: a (version, baseline, minute)'s counters and both sides' latency histograms. */
export type CounterRow = Counters & {
  version: string;
  /** The main the version was compared with. */
  baseline: string;
  minute: number;
  latencyMain: string;
  latencyShadow: string;
};

const READ_COUNTERS = COUNTER_NAMES.map((name) => `${COLUMN[name]} AS ${name}`).join(", ");

/** SELECT of whole counter rows from `table`, as CounterRow (or, for lifetime, without baseline and minute). */
export function selectCounters(table: string, keys = "version, baseline, minute"): string {
  return `SELECT ${keys}, ${READ_COUNTERS}, latency_main AS latencyMain, latency_shadow AS latencyShadow FROM ${table}`;
}

/**
 * Adds a row of counters to what `table` holds under `keys`: counts are
 * sums, and the caller passes the histograms already merged with the stored
 * ones. Arguments: the keys' values, then `counterValues`, then both histograms.
 */
export function addCountersSql(table: string, keys: readonly string[]): string {
  const columns = [...keys, ...COUNTER_NAMES.map((name) => COLUMN[name]), "latency_main", "latency_shadow"];
  const sums = COUNTER_NAMES.map((name) => `${COLUMN[name]} = ${COLUMN[name]} + excluded.${COLUMN[name]}`);
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})
    ON CONFLICT (${keys.join(", ")}) DO UPDATE SET ${sums.join(", ")},
      latency_main = excluded.latency_main, latency_shadow = excluded.latency_shadow`;
}

export const counterValues = (counters: Counters): number[] => COUNTER_NAMES.map((name) => counters[name]);

/** A stored histogram (JSON text, or none) with `added` merged in, as JSON text. */
export function mergedJson(stored: string | undefined, added: HistogramJson): string {
  if (stored === undefined) return JSON.stringify(added);
  const histogram = LatencyHistogram.fromJson(JSON.parse(stored) as HistogramJson);
  histogram.mergeJson(added);
  return JSON.stringify(histogram.toJson());
}

/** Adds a (version, baseline, minute) row to `counters` (see addCountersSql). */
export const ADD_COUNTERS = addCountersSql("counters", ["version", "baseline", "minute"]);
/** Whole rows of `counters`, as CounterRow. */
export const SELECT_COUNTERS = selectCounters("counters");

import {
  type BaselineReport,
  type EvidencePolicy,
  type EvidenceReport,
  type MainTrafficReport,
  type NoiseEvidence,
  noiseReport,
  type ReportSeries,
  type ShadowReport,
} from "../verdict.ts";
import { type CounterRow, SELECT_COUNTERS } from "./counter-rows.ts";
import {
  firstMinuteOf,
  type MainTrafficRow,
  type RouteRow,
  type SignatureRow,
  type WindowQuery,
  type WindowRows,
} from "./window.ts";

const MINUTE_MS = 60_000;

export interface ReportInput {
  name: string;
  /** Window in ms since the epoch: a minute belongs to it when the minute starts in [from, to). */
  from: number;
  to: number;
  main: string;
  shadows: string[];
  /**
   * An older main to read the evidence against (`?baseline=`): its shadows are every version
   * compared with it. Absent or equal to `main`: the current main, from its promotion on.
   */
  baseline?: string;
  policy?: Partial<Omit<EvidencePolicy, "gate">> & { gate?: Partial<EvidencePolicy["gate"]> };
  /** LEDGER_SHARDS of the reader; reads cover at least this many shards (and every shard ever noted). */
  shards?: number;
}

/** What a report reads, decided on shard 0 (see `baselineOf`); `promoted` is when `main` last took over. */
export interface BaselineRead {
  main: string;
  current: boolean;
  promoted: number | undefined;
  query: WindowQuery;
}

/**
 * Which baseline a report reads, from shard 0's promotions: the current
 * main from its latest promotion on, or an older main over the whole
 * window (its shadows are every version compared with it).
 */
export function baselineOf(
  sql: SqlStorage,
  input: ReportInput,
  lo: number,
  hi: number,
  perMinute: boolean,
): BaselineRead {
  const main = input.baseline ?? input.main;
  const promoted = sql
    .exec<{ since: number }>("SELECT since FROM mains WHERE main = ? ORDER BY since DESC LIMIT 1", main)
    .toArray()[0]?.since;
  const current = main === input.main;
  const since = current && promoted !== undefined ? Math.max(lo, Math.floor(promoted / MINUTE_MS)) : lo;
  const versions = current ? input.shadows : null;
  return { main, current, promoted, query: { lo, hi, since, baseline: main, versions, perMinute } };
}

/** The report's `baseline`: since when it was main and, for an older one, until when. */
export function baselineReport(sql: SqlStorage, read: BaselineRead, rows: WindowRows): BaselineReport {
  // Never told of a promotion to this main (the name's first main): it is the baseline from its first minute.
  const first = firstMinuteOf(read.main, rows);
  const since = read.promoted ?? (first === undefined ? undefined : first * MINUTE_MS);
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  if (read.current) return { main: read.main, since: iso(since) };
  const until =
    since === undefined
      ? undefined
      : sql
          .exec<{ since: number }>("SELECT since FROM mains WHERE since > ? ORDER BY since LIMIT 1", since)
          .toArray()[0]?.since;
  return { main: read.main, since: iso(since), until: iso(until) };
}

/** Changes of main whose time falls in the minutes [lo, hi). */
export function promotionsOf(sql: SqlStorage, lo: number, hi: number): ReportSeries["promotions"] {
  return sql
    .exec<{ since: number; main: string }>(
      "SELECT since, main FROM mains WHERE since >= ? AND since < ? ORDER BY since",
      lo * MINUTE_MS,
      hi * MINUTE_MS,
    )
    .toArray()
    .map((row) => ({ at: new Date(row.since).toISOString(), main: row.main }));
}

/** The window's rows that `query` asks for (see WindowQuery). */
export function windowRows(sql: SqlStorage, query: WindowQuery): WindowRows {
  const { lo, hi, since, baseline, perMinute } = query;
  const counters: CounterRow[] = [];
  const signatures: SignatureRow[] = [];
  const routes: RouteRow[] = [];
  // null: every version compared with the baseline (an older main's shadows).
  for (const version of query.versions ?? [null]) {
    const which = version === null ? "" : "version = ? AND ";
    const args = version === null ? [baseline, since, hi] : [version, baseline, since, hi];
    const where = `WHERE ${which}baseline = ? AND minute >= ? AND minute < ?`;
    counters.push(...sql.exec<CounterRow>(`${SELECT_COUNTERS} ${where}`, ...args).toArray());
    routes.push(
      ...sql
        .exec<RouteRow>(
          `SELECT version, route, SUM(requests) AS requests FROM route_counts ${where} GROUP BY version, route`,
          ...args,
        )
        .toArray(),
    );
    signatures.push(
      ...sql
        .exec<SignatureRow>(
          perMinute
            ? `SELECT version, minute, partial, signature, count FROM signatures ${where}`
            : `SELECT version, MIN(minute) AS minute, partial, signature, SUM(count) AS count FROM signatures
               ${where} GROUP BY version, partial, signature`,
          ...args,
        )
        .toArray(),
    );
  }
  const mainTraffic = sql
    .exec<MainTrafficRow>("SELECT * FROM main_traffic WHERE minute >= ? AND minute < ?", lo, hi)
    .toArray();
  const sampled = sql
    .exec<{ sampled: number | null }>(
      "SELECT SUM(sampled) AS sampled FROM noise WHERE main = ? AND minute >= ? AND minute < ?",
      baseline,
      since,
      hi,
    )
    .one().sampled;
  const noiseRoutes = sql
    .exec<{ route: string; sampled: number }>(
      "SELECT route, SUM(sampled) AS sampled FROM noise_routes WHERE main = ? AND minute >= ? AND minute < ? GROUP BY route",
      baseline,
      since,
      hi,
    )
    .toArray();
  const paths = sql
    .exec<{ field: string; count: number }>(
      "SELECT field, SUM(count) AS count FROM noise_paths WHERE main = ? AND minute >= ? AND minute < ? GROUP BY field",
      baseline,
      since,
      hi,
    )
    .toArray();
  return {
    counters,
    signatures,
    routes,
    noise: {
      sampled: Number(sampled ?? 0),
      routes: Object.fromEntries(noiseRoutes.map((row) => [row.route, row.sampled])),
      paths: Object.fromEntries(paths.map((row) => [row.field, row.count])),
    },
    mainTraffic,
  };
}

/** The report's JSON around its shadows, the same with or without a series. */
export function assembleReport(
  input: ReportInput,
  baseline: BaselineReport,
  mainTraffic: MainTrafficReport,
  shadows: ShadowReport[],
  noise: NoiseEvidence,
): EvidenceReport {
  return {
    name: input.name,
    main: input.main,
    window: assembleWindow(input),
    baseline,
    mainTraffic,
    shadows,
    noise: noiseReport(noise),
  };
}

/** The window as asked for, even when its evidence comes from the cache. */
export function assembleWindow(input: ReportInput): EvidenceReport["window"] {
  return { from: new Date(input.from).toISOString(), to: new Date(input.to).toISOString() };
}

import { DurableObject } from "cloudflare:workers";
import { MAX_LEDGER_SHARDS } from "../config.ts";
import type { Env } from "../env.ts";
import {
  cutBody,
  type EvidenceBatch,
  type ExchangeSample,
  type MainMinute,
  type MinuteCounts,
  SAMPLES_PER_PATH,
  type SampleSide,
} from "./batch.ts";
import { boundDifferences, MAX_FIELDS_PER_VERSION } from "./fields.ts";
import { type HistogramJson, LatencyHistogram } from "./histogram.ts";
import {
  addNoiseToLifetime,
  addToLifetime,
  forgetLifetime,
  LIFETIME_SCHEMA,
  LIFETIME_TABLES,
  lifetimeParts,
  metricsOf,
  type VersionMetrics,
} from "./lifetime.ts";
import { CACHED_WINDOW_MINUTES, ReportCache } from "./report-cache.ts";
import { askCoordinator, RolloutWatch } from "./rollout-watch.ts";
import { p99OrNull, type SeriesSteps, seriesSteps, stepOf } from "./series.ts";
import { shardName } from "./shards.ts";
import {
  type BaselineReport,
  type EvidencePolicy,
  type EvidenceReport,
  fieldKey,
  type MainTrafficReport,
  type NoiseEvidence,
  noiseReport,
  parseSignature,
  type ReportSeries,
  type ShadowReport,
  shadowReport,
  signatureOf,
  withDefaults,
} from "./verdict.ts";
import {
  addCounters,
  type CounterRow,
  emptyEvidence,
  evidenceOf,
  firstMinuteOf,
  type LifetimeJson,
  type MainTrafficRow,
  mainTrafficOf,
  mergeWindows,
  noiseOf,
  type SignatureRow,
  versionsOf,
  type WindowQuery,
  type WindowRows,
} from "./window.ts";

const MINUTE_MS = 60_000;
/** Evidence older than this is pruned. */
export const RETENTION_MS = 7 * 24 * 60 * MINUTE_MS;
const PRUNE_EVERY_MS = 60 * MINUTE_MS;
/** Minutes older than this are rolled up into hours (at the alarm, hourly), so a week reads about 400 rows. */
export const ROLLUP_AFTER_MS = 3 * 60 * MINUTE_MS;
const HOUR_MINUTES = 60;

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

/** Signature rows one (version, minute) may hold; past it, new signatures count as `unrecorded`. */
export const MAX_SIGNATURES_PER_MINUTE = 500;
/**
 * Adds a (version, baseline, minute) row of counters to what is stored: counts are sums, and the
 * caller passes the histograms already merged with the stored ones.
 */
const ADD_COUNTERS = `INSERT INTO counters VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (version, baseline, minute) DO UPDATE SET
    mirrored = mirrored + excluded.mirrored, compared = compared + excluded.compared,
    not_compared = not_compared + excluded.not_compared, errors_shadow = errors_shadow + excluded.errors_shadow,
    down = down + excluded.down, skipped = skipped + excluded.skipped,
    unrecorded = unrecorded + excluded.unrecorded, errors_main = errors_main + excluded.errors_main,
    latency_main = excluded.latency_main, latency_shadow = excluded.latency_shadow,
    canary = canary + excluded.canary, errors_shadow_only = errors_shadow_only + excluded.errors_shadow_only,
    errors_main_only = errors_main_only + excluded.errors_main_only`;
/** Bumped when the tables change: a ledger written by an older gateway is reset, not misread. */
const SCHEMA_VERSION = 5;
/** The `fields` row of main-against-main noise (versions are never empty). */
const NOISE_FIELDS = "";

export interface StoredSample extends ExchangeSample {
  version: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ledger_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
-- baseline: the main version the shadow was compared with. Evidence against two mains is never mixed.
CREATE TABLE IF NOT EXISTS counters (
  version TEXT NOT NULL, baseline TEXT NOT NULL, minute INTEGER NOT NULL,
  mirrored INTEGER NOT NULL, compared INTEGER NOT NULL, not_compared INTEGER NOT NULL,
  errors_shadow INTEGER NOT NULL, down INTEGER NOT NULL, skipped INTEGER NOT NULL, unrecorded INTEGER NOT NULL,
  errors_main INTEGER NOT NULL, latency_main TEXT NOT NULL, latency_shadow TEXT NOT NULL,
  canary INTEGER NOT NULL,
  -- Of mirrored: the shadow failed and main did not, and the reverse (the verdict's paired error rule).
  errors_shadow_only INTEGER NOT NULL, errors_main_only INTEGER NOT NULL,
  PRIMARY KEY (version, baseline, minute));
-- partial = 1: requests answered but not body-compared, whose status or headers differed.
CREATE TABLE IF NOT EXISTS signatures (
  version TEXT NOT NULL, baseline TEXT NOT NULL, minute INTEGER NOT NULL, partial INTEGER NOT NULL,
  signature TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (version, baseline, minute, partial, signature));
-- Main's own traffic per (version serving as main, minute): s5xx includes a main that never answered.
CREATE TABLE IF NOT EXISTS main_traffic (
  version TEXT NOT NULL, minute INTEGER NOT NULL, requests INTEGER NOT NULL,
  s2xx INTEGER NOT NULL, s3xx INTEGER NOT NULL, s4xx INTEGER NOT NULL, s5xx INTEGER NOT NULL,
  latency TEXT NOT NULL, PRIMARY KEY (version, minute));
-- When each main took over (ms since the epoch): where the current baseline's evidence starts.
CREATE TABLE IF NOT EXISTS mains (since INTEGER PRIMARY KEY, main TEXT NOT NULL);
-- The distinct fields (path kind) each version has recorded, capped per version; '' is noise.
CREATE TABLE IF NOT EXISTS fields (
  version TEXT NOT NULL, field TEXT NOT NULL, last_minute INTEGER NOT NULL, PRIMARY KEY (version, field));
-- Noise is main against main, whichever version was main that minute: it describes the service's answers.
CREATE TABLE IF NOT EXISTS noise (minute INTEGER PRIMARY KEY, sampled INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS noise_paths (
  minute INTEGER NOT NULL, field TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (minute, field));
CREATE TABLE IF NOT EXISTS samples (
  id INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT NOT NULL, minute INTEGER NOT NULL, sample TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sample_paths (
  version TEXT NOT NULL, path TEXT NOT NULL, sample_id INTEGER NOT NULL, PRIMARY KEY (version, path, sample_id));
CREATE INDEX IF NOT EXISTS samples_by_minute ON samples (minute);
-- Pruning deletes by minute and by sample: ranges and lookups, not scans.
CREATE INDEX IF NOT EXISTS counters_by_minute ON counters (minute);
CREATE INDEX IF NOT EXISTS signatures_by_minute ON signatures (minute);
CREATE INDEX IF NOT EXISTS fields_by_last_minute ON fields (last_minute);
CREATE INDEX IF NOT EXISTS sample_paths_by_sample ON sample_paths (sample_id);
-- How many batches this ledger has taken, kept only with LEDGER_COUNT_WRITES = "on" (tests, the bench).
CREATE TABLE IF NOT EXISTS writes (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL);
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
  "noise_paths",
  "sample_paths",
  "samples",
  ...LIFETIME_TABLES,
];

/**
 * The evidence of one service name: per (version, minute) counters and
 * latency histograms, signatures of differences, noise, and samples.
 * Isolates write batches; the report applies noise and ignore rules when it
 * reads, so a policy change corrects past windows.
 */
export class EvidenceLedger extends DurableObject<Env> {
  #schemaReady = false;
  #alarmSet = false;
  readonly #reports = new ReportCache<EvidenceReport>();
  /** Per version, the fields it has recorded (see `fields`); dropped whenever rows are deleted. */
  readonly #fields = new Map<string, Set<string>>();

  readonly #countWrites: boolean;
  #storedSpan: number | undefined;
  /** Asks the coordinator to judge a running rollout when its evidence lands (null: a nameless object). */
  readonly #rollouts: RolloutWatch | null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#countWrites = env.LEDGER_COUNT_WRITES === "on";
    // Shard k of a name is `<name>#<k>`; names have no `#`.
    const name = ctx.id.name?.split("#")[0];
    this.#rollouts = name ? new RolloutWatch(askCoordinator(env, name)) : null;
    void ctx.blockConcurrencyWhile(async () => {
      this.#ensureSchema();
      this.#alarmSet = (await ctx.storage.getAlarm()) !== null;
    });
  }

  async record(batch: EvidenceBatch): Promise<void> {
    this.#ensureSchema();
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (const m of batch.main ?? []) this.#recordMain(m);
      for (const m of batch.shadows) this.#recordMinute(m);
      for (const n of batch.noise) {
        sql.exec(
          "INSERT INTO noise VALUES (?, ?) ON CONFLICT (minute) DO UPDATE SET sampled = sampled + excluded.sampled",
          n.minute,
          n.sampled,
        );
        const known = this.#fieldsOf(NOISE_FIELDS);
        const added = new Map<string, number>();
        for (const [key, count] of Object.entries(n.paths)) {
          const [difference] = boundDifferences(parseSignature(key), known);
          if (!difference) continue;
          const field = fieldKey(difference);
          added.set(field, (added.get(field) ?? 0) + count);
          sql.exec(
            `INSERT INTO noise_paths VALUES (?, ?, ?)
             ON CONFLICT (minute, field) DO UPDATE SET count = count + excluded.count`,
            n.minute,
            field,
            count,
          );
        }
        this.#touchFields(NOISE_FIELDS, added.keys(), n.minute);
        addNoiseToLifetime(sql, n.sampled, added);
      }
      for (const sample of batch.samples) this.#keepSample(sample);
      if (this.#countWrites) {
        sql.exec("INSERT INTO writes VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET count = count + 1");
      }
    });
    this.#rollouts?.saw(batch.shadows.map((m) => ({ version: m.version, canary: (m.canary ?? 0) > 0 })));
    if (!this.#alarmSet) {
      await this.ctx.storage.setAlarm(Date.now() + PRUNE_EVERY_MS);
      this.#alarmSet = true;
    }
  }

  /** One (version, minute) of main's own traffic; the name's first main is where its baselines start. */
  #recordMain(m: MainMinute): void {
    const sql = this.ctx.storage.sql;
    const existing = sql
      .exec<{ latency: string }>(
        "SELECT latency FROM main_traffic WHERE version = ? AND minute = ?",
        m.version,
        m.minute,
      )
      .toArray()[0];
    const [s2xx, s3xx, s4xx, s5xx] = m.status;
    sql.exec(
      `INSERT INTO main_traffic VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (version, minute) DO UPDATE SET
         requests = requests + excluded.requests, s2xx = s2xx + excluded.s2xx, s3xx = s3xx + excluded.s3xx,
         s4xx = s4xx + excluded.s4xx, s5xx = s5xx + excluded.s5xx, latency = excluded.latency`,
      m.version,
      m.minute,
      m.requests,
      s2xx,
      s3xx,
      s4xx,
      s5xx,
      mergedJson(existing?.latency, m.latency),
    );
  }

  /**
   * `main` became the name's main at `at` (ms): the current baseline's evidence starts there.
   * Only the coordinator tells promotions. An isolate whose routes are a few
   * seconds stale may still write against the old main: that is kept under
   * the old baseline, never read as a promotion.
   */
  async promoted(main: string, at: number): Promise<void> {
    this.#ensureSchema();
    this.ctx.storage.sql.exec(
      "INSERT INTO mains VALUES (?, ?) ON CONFLICT (since) DO UPDATE SET main = excluded.main",
      at,
      main,
    );
    this.#reports.clear();
  }

  /**
   * Which baseline a report reads, from this shard 0's promotions: the
   * current main from its latest promotion on, or an older main over the
   * whole window (its shadows are every version compared with it).
   */
  #baselineOf(input: ReportInput, lo: number, hi: number, perMinute: boolean): BaselineRead {
    const main = input.baseline ?? input.main;
    const promoted = this.ctx.storage.sql
      .exec<{ since: number }>("SELECT since FROM mains WHERE main = ? ORDER BY since DESC LIMIT 1", main)
      .toArray()[0]?.since;
    const current = main === input.main;
    const since = current && promoted !== undefined ? Math.max(lo, Math.floor(promoted / MINUTE_MS)) : lo;
    const versions = current ? input.shadows : null;
    return { main, current, promoted, query: { lo, hi, since, baseline: main, versions, perMinute } };
  }

  /** The report's `baseline`: since when it was main and, for an older one, until when. */
  #baselineReport(read: BaselineRead, rows: WindowRows): BaselineReport {
    // Never told of a promotion to this main (the name's first main): it is the baseline from its first minute.
    const first = firstMinuteOf(read.main, rows);
    const since = read.promoted ?? (first === undefined ? undefined : first * MINUTE_MS);
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    if (read.current) return { main: read.main, since: iso(since) };
    const until =
      since === undefined
        ? undefined
        : this.ctx.storage.sql
            .exec<{ since: number }>("SELECT since FROM mains WHERE since > ? ORDER BY since LIMIT 1", since)
            .toArray()[0]?.since;
    return { main: read.main, since: iso(since), until: iso(until) };
  }

  /**
   * Whether any evidence or traffic was ever kept against this main. On
   * shard 0, with the name: on any of its shards.
   */
  async hasBaseline(
    main: string,
    sharded: { name: string; shards?: number } | undefined = undefined,
  ): Promise<boolean> {
    this.#ensureSchema();
    const own =
      this.ctx.storage.sql
        .exec(
          `SELECT 1 FROM mains WHERE main = ?1 UNION ALL SELECT 1 FROM counters WHERE baseline = ?1
           UNION ALL SELECT 1 FROM main_traffic WHERE version = ?1 LIMIT 1`,
          main,
        )
        .toArray().length > 0;
    if (own) return true;
    const others = this.#otherShards(sharded?.name, sharded?.shards);
    return (await Promise.all(others.map((shard) => shard.hasBaseline(main)))).some(Boolean);
  }

  /**
   * One (version, minute) of counters. Signatures are bounded twice here: a
   * field past the version's cap becomes `body many`, and a minute past its
   * number of signature rows keeps counting the requests as `unrecorded`.
   */
  #recordMinute(m: MinuteCounts): void {
    const sql = this.ctx.storage.sql;
    const existing = sql
      .exec<{ latency_main: string; latency_shadow: string }>(
        "SELECT latency_main, latency_shadow FROM counters WHERE version = ? AND baseline = ? AND minute = ?",
        m.version,
        m.baseline,
        m.minute,
      )
      .toArray()[0];
    let compared = m.compared;
    let notCompared = m.notCompared;
    let unrecorded = m.unrecorded;
    let rows = sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM signatures WHERE version = ? AND baseline = ? AND minute = ?",
        m.version,
        m.baseline,
        m.minute,
      )
      .one().n;
    const known = this.#fieldsOf(m.version);
    const used = new Set<string>();
    // What the minute rows keep, for the version's lifetime totals too.
    const kept: [Record<string, number>, Record<string, number>] = [{}, {}];
    const keep = (partial: 0 | 1, signatures: Record<string, number> | undefined) => {
      for (const [raw, count] of Object.entries(signatures ?? {})) {
        const differences = boundDifferences(parseSignature(raw), known);
        const signature = signatureOf(differences);
        const stored = sql
          .exec(
            "SELECT 1 FROM signatures WHERE version = ? AND baseline = ? AND minute = ? AND partial = ? AND signature = ?",
            m.version,
            m.baseline,
            m.minute,
            partial,
            signature,
          )
          .toArray().length;
        for (const difference of differences) used.add(fieldKey(difference));
        if (stored === 0 && rows >= MAX_SIGNATURES_PER_MINUTE) {
          unrecorded += count;
          if (partial === 0) {
            compared -= count;
            notCompared += count;
          }
          continue;
        }
        if (stored === 0) rows++;
        kept[partial][signature] = (kept[partial][signature] ?? 0) + count;
        sql.exec(
          `INSERT INTO signatures VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (version, baseline, minute, partial, signature) DO UPDATE SET count = count + excluded.count`,
          m.version,
          m.baseline,
          m.minute,
          partial,
          signature,
          count,
        );
      }
    };
    keep(0, m.signatures);
    keep(1, m.partialSignatures);
    this.#touchFields(m.version, used, m.minute);
    addToLifetime(sql, { ...m, compared, notCompared, unrecorded, signatures: kept[0], partialSignatures: kept[1] });
    sql.exec(
      ADD_COUNTERS,
      m.version,
      m.baseline,
      m.minute,
      m.mirrored,
      compared,
      notCompared,
      m.errorsShadow,
      m.down ?? 0,
      m.skipped,
      unrecorded,
      m.errorsMain,
      mergedJson(existing?.latency_main, m.latencyMain),
      mergedJson(existing?.latency_shadow, m.latencyShadow),
      m.canary ?? 0,
      // A batch from an older isolate did not pair its errors: each shadow error is taken as the shadow's alone.
      m.errorsShadowOnly ?? m.errorsShadow,
      m.errorsMainOnly ?? 0,
    );
  }

  /** A version's known fields, read once per instance and kept in step with the `fields` table. */
  #fieldsOf(version: string): Set<string> {
    let known = this.#fields.get(version);
    if (!known) {
      known = new Set(
        this.ctx.storage.sql
          .exec<{ field: string }>("SELECT field FROM fields WHERE version = ?", version)
          .toArray()
          .map((row) => row.field),
      );
      this.#fields.set(version, known);
    }
    return known;
  }

  #touchFields(version: string, fields: Iterable<string>, minute: number): void {
    for (const field of fields) {
      this.ctx.storage.sql.exec(
        `INSERT INTO fields VALUES (?, ?, ?)
         ON CONFLICT (version, field) DO UPDATE SET last_minute = MAX(last_minute, excluded.last_minute)`,
        version,
        field,
        minute,
      );
    }
  }

  async report(input: ReportInput): Promise<EvidenceReport> {
    this.#ensureSchema();
    return this.#read("report", input, false, (read, rows) => {
      const policy = withDefaults(input.policy);
      const noise = noiseOf(rows);
      const versions = read.query.versions ?? versionsOf(rows);
      const shadows = versions.map((version) => shadowReport(evidenceOf(version, rows), noise, policy));
      const mainTraffic = mainTrafficOf(read.main, read.query.since, rows);
      return assembleReport(input, this.#baselineReport(read, rows), mainTraffic, shadows, noise);
    });
  }

  /**
   * A report over this ledger's rows of the window and, when the name is
   * sharded, every other shard's, read at once. A long window's report comes
   * from the cache while its last minute is the same (see ReportCache).
   */
  async #read<T extends EvidenceReport>(
    kind: string,
    input: ReportInput,
    perMinute: boolean,
    build: (read: BaselineRead, rows: WindowRows) => T,
  ): Promise<T> {
    const lo = Math.ceil(input.from / MINUTE_MS);
    const hi = Math.ceil(input.to / MINUTE_MS);
    const others = this.#otherShards(input.name, input.shards);
    const cached = hi - lo >= CACHED_WINDOW_MINUTES;
    const key = JSON.stringify([
      kind,
      lo,
      input.main,
      input.baseline ?? null,
      input.shadows,
      input.policy ?? null,
      others.length,
    ]);
    if (cached) {
      const hit = this.#reports.get(key, hi) as T | undefined;
      if (hit) return { ...hit, window: assembleWindow(input) };
    }
    const read = this.#baselineOf(input, lo, hi, perMinute);
    const own = this.#window(read.query);
    const rows =
      others.length === 0
        ? own
        : mergeWindows([own, ...(await Promise.all(others.map((shard) => shard.windowRows(read.query))))]);
    const report = build(read, rows);
    if (cached) this.#reports.set(key, report);
    return report;
  }

  /** This shard's rows of the window, for shard 0 to merge (see `report`). */
  async windowRows(query: WindowQuery): Promise<WindowRows> {
    this.#ensureSchema();
    return this.#window(query);
  }

  /** Shard 0 hears that a writer uses `shards` shards: reads cover them from now on. */
  async noteShards(shards: number): Promise<void> {
    this.#ensureSchema();
    if (Number.isSafeInteger(shards) && shards >= 1 && shards <= MAX_LEDGER_SHARDS) this.#span(shards);
  }

  /** The most shards this name has used, counting `requested` (the reader's LEDGER_SHARDS) in. */
  #span(requested = 1): number {
    const sql = this.ctx.storage.sql;
    // Read once per instance: only this object writes it, so the copy stays true (a cached report costs no query).
    this.#storedSpan ??= sql.exec<{ shards: number }>("SELECT shards FROM shard_span").toArray()[0]?.shards ?? 1;
    const stored = this.#storedSpan;
    if (requested <= stored) return stored;
    this.#storedSpan = requested;
    sql.exec(
      "INSERT INTO shard_span VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET shards = MAX(shards, excluded.shards)",
      requested,
    );
    return requested;
  }

  /** Shards 1 … span-1 of `name`, when this is its shard 0 and the name is sharded. */
  #otherShards(name: string | undefined, requested?: number): DurableObjectStub<EvidenceLedger>[] {
    if (name === undefined) return [];
    const span = this.#span(Math.min(requested ?? 1, MAX_LEDGER_SHARDS));
    return Array.from({ length: span - 1 }, (_, k) => this.env.EVIDENCE_LEDGER.getByName(shardName(name, k + 1)));
  }

  /**
   * Newest samples first; with `path`, only those kept for that path. With
   * `name`, read on shard 0: the newest of every shard's samples.
   */
  async diffs(
    version: string,
    options: { path?: string; limit?: number; name?: string; shards?: number } = {},
  ): Promise<{ samples: ExchangeSample[] }> {
    this.#ensureSchema();
    const limit = Math.max(1, Math.min(options.limit ?? 10, 100));
    const own = this.#samples(version, options.path, limit);
    const others = this.#otherShards(options.name, options.shards);
    if (others.length === 0) return { samples: own };
    const theirs = await Promise.all(
      others.map((shard) => shard.diffs(version, { path: options.path, limit: options.limit })),
    );
    const all = [own, ...theirs.map((part) => part.samples)].flat().sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
    return { samples: all.slice(0, limit) };
  }

  #samples(version: string, path: string | undefined, limit: number): ExchangeSample[] {
    const sql = this.ctx.storage.sql;
    const rows =
      path === undefined
        ? sql.exec<{ sample: string }>(
            "SELECT sample FROM samples WHERE version = ? ORDER BY id DESC LIMIT ?",
            version,
            limit,
          )
        : sql.exec<{ sample: string }>(
            `SELECT s.sample FROM samples s JOIN sample_paths p ON p.sample_id = s.id
             WHERE p.version = ? AND p.path = ? ORDER BY s.id DESC LIMIT ?`,
            version,
            path,
            limit,
          );
    return rows.toArray().map((row) => JSON.parse(row.sample) as ExchangeSample);
  }

  /**
   * The report with its window step by step (`series`), for charts. One pass
   * over the window's rows builds both, so they add up and a long window is
   * read once: each step keeps its own sums and histograms, and the window's
   * evidence is their merge.
   */
  async reportWithSeries(input: ReportInput): Promise<EvidenceReport & { series: ReportSeries }> {
    this.#ensureSchema();
    return this.#read("series", input, true, (read, rows) =>
      readWithSeries(
        input,
        read,
        this.#baselineReport(read, rows),
        this.#promotions(read.query.lo, read.query.hi),
        rows,
      ),
    );
  }

  /** Changes of main whose  /** Changes of main whose time falls in the minutes [lo, hi). */
  #promotions(lo: number, hi: number): ReportSeries["promotions"] {
    return this.ctx.storage.sql
      .exec<{ since: number; main: string }>(
        "SELECT since, main FROM mains WHERE since >= ? AND since < ? ORDER BY since",
        lo * MINUTE_MS,
        hi * MINUTE_MS,
      )
      .toArray()
      .map((row) => ({ at: new Date(row.since).toISOString(), main: row.main }));
  }

  /**
   * Forgets one version's counters, signatures and samples: it was killed, and
   * a version deployed again under that number starts with no evidence. Noise
   * stays, because it describes the name's main.
   */
  async forget(version: string, sharded: { name: string; shards?: number } | undefined = undefined): Promise<void> {
    this.#ensureSchema();
    const others = this.#otherShards(sharded?.name, sharded?.shards);
    await Promise.all(others.map((shard) => shard.forget(version)));
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      sql.exec("DELETE FROM counters WHERE version = ?", version);
      sql.exec("DELETE FROM signatures WHERE version = ?", version);
      sql.exec("DELETE FROM fields WHERE version = ?", version);
      sql.exec("DELETE FROM sample_paths WHERE version = ?", version);
      sql.exec("DELETE FROM samples WHERE version = ?", version);
      forgetLifetime(sql, version);
    });
    this.#fields.delete(version);
    this.#reports.clear();
  }

  /** For Prometheus: each shadow's lifetime counters (they outlive pruning) and its verdict over the input's window. */
  async metrics(input: ReportInput): Promise<VersionMetrics[]> {
    const hour = await this.report(input);
    const versions = input.shadows;
    const others = await Promise.all(
      this.#otherShards(input.name, input.shards).map((shard) => shard.lifetime(versions)),
    );
    return metricsOf(lifetimeParts(this.ctx.storage.sql, versions), others, withDefaults(input.policy), hour);
  }

  /** This shard's lifetime totals, for shard 0's metrics. */
  async lifetime(versions: string[]): Promise<LifetimeJson> {
    this.#ensureSchema();
    return lifetimeParts(this.ctx.storage.sql, versions);
  }

  /** Forgets everything: the name was killed. On shard 0, with the name: every shard of it too. */
  async destroy(sharded: { name: string; shards?: number } | undefined = undefined): Promise<void> {
    this.#ensureSchema();
    const others = this.#otherShards(sharded?.name, sharded?.shards);
    await Promise.all(others.map((shard) => shard.destroy()));
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#fields.clear();
    this.#reports.clear();
    this.#schemaReady = false;
    this.#alarmSet = false;
    this.#storedSpan = undefined;
  }

  override async alarm(): Promise<void> {
    this.#ensureSchema();
    const cutoff = Math.floor((Date.now() - RETENTION_MS) / MINUTE_MS);
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      this.#rollUp(Math.floor((Date.now() - ROLLUP_AFTER_MS) / MINUTE_MS));
      sql.exec("DELETE FROM counters WHERE minute < ?", cutoff);
      sql.exec("DELETE FROM signatures WHERE minute < ?", cutoff);
      sql.exec("DELETE FROM fields WHERE last_minute < ?", cutoff);
      sql.exec("DELETE FROM noise WHERE minute < ?", cutoff);
      sql.exec("DELETE FROM noise_paths WHERE minute < ?", cutoff);
      sql.exec("DELETE FROM main_traffic WHERE minute < ?", cutoff);
      // The latest promotion stays: it says since when the current main is the baseline.
      sql.exec("DELETE FROM mains WHERE since < ? AND since < (SELECT MAX(since) FROM mains)", cutoff * MINUTE_MS);
      sql.exec("DELETE FROM sample_paths WHERE sample_id IN (SELECT id FROM samples WHERE minute < ?)", cutoff);
      sql.exec("DELETE FROM samples WHERE minute < ?", cutoff);
    });
    this.#fields.clear();
    this.#reports.clear();
    const left = sql
      .exec<{ n: number }>(
        "SELECT (SELECT COUNT(*) FROM counters) + (SELECT COUNT(*) FROM noise) + (SELECT COUNT(*) FROM main_traffic) AS n",
      )
      .one().n;
    if (left > 0) {
      await this.ctx.storage.setAlarm(Date.now() + PRUNE_EVERY_MS);
    } else {
      this.#alarmSet = false;
    }
  }

  /**
   * Folds every minute before `before` into the row of its hour (the minute
   * the hour starts): counters and noise are sums and histograms merge, so
   * totals stay the same. A window whose edge falls inside a rolled-up hour
   * takes that hour whole when the hour starts inside it; reports of the last
   * few hours (the gate's window) are not affected.
   */
  #rollUp(before: number): void {
    const sql = this.ctx.storage.sql;
    const hourOf = (minute: number) => minute - (minute % HOUR_MINUTES);
    const hours = new Map<string, CounterRow>();
    for (const row of sql.exec<CounterRow>("SELECT * FROM counters WHERE minute < ? AND minute % 60 != 0", before)) {
      const key = JSON.stringify([row.version, row.baseline, hourOf(row.minute)]);
      const hour = hours.get(key);
      if (!hour) {
        hours.set(key, { ...row, minute: hourOf(row.minute) });
        continue;
      }
      for (const column of COUNTER_COLUMNS) hour[column] += row[column];
      hour.canary += row.canary;
      hour.errors_shadow_only += row.errors_shadow_only;
      hour.errors_main_only += row.errors_main_only;
      hour.latency_main = mergedJson(hour.latency_main, JSON.parse(row.latency_main) as HistogramJson);
      hour.latency_shadow = mergedJson(hour.latency_shadow, JSON.parse(row.latency_shadow) as HistogramJson);
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
        ...COUNTER_COLUMNS.map((column) => hour[column]),
        stored ? mergedJson(stored.latency_main, JSON.parse(hour.latency_main) as HistogramJson) : hour.latency_main,
        stored
          ? mergedJson(stored.latency_shadow, JSON.parse(hour.latency_shadow) as HistogramJson)
          : hour.latency_shadow,
        hour.canary,
        hour.errors_shadow_only,
        hour.errors_main_only,
      );
    }
    sql.exec("DELETE FROM counters WHERE minute < ? AND minute % 60 != 0", before);
    sql.exec(
      `INSERT INTO signatures SELECT version, baseline, minute - minute % 60, partial, signature, SUM(count)
       FROM signatures WHERE minute < ? AND minute % 60 != 0
       GROUP BY version, baseline, minute - minute % 60, partial, signature
       ON CONFLICT (version, baseline, minute, partial, signature) DO UPDATE SET count = count + excluded.count`,
      before,
    );
    sql.exec("DELETE FROM signatures WHERE minute < ? AND minute % 60 != 0", before);
    this.#rollUpMainTraffic(before);
    sql.exec(
      `INSERT INTO noise SELECT minute - minute % 60, SUM(sampled) FROM noise
       WHERE minute < ? AND minute % 60 != 0 GROUP BY minute - minute % 60
       ON CONFLICT (minute) DO UPDATE SET sampled = sampled + excluded.sampled`,
      before,
    );
    sql.exec("DELETE FROM noise WHERE minute < ? AND minute % 60 != 0", before);
    sql.exec(
      `INSERT INTO noise_paths SELECT minute - minute % 60, field, SUM(count) FROM noise_paths
       WHERE minute < ? AND minute % 60 != 0 GROUP BY minute - minute % 60, field
       ON CONFLICT (minute, field) DO UPDATE SET count = count + excluded.count`,
      before,
    );
    sql.exec("DELETE FROM noise_paths WHERE minute < ? AND minute % 60 != 0", before);
  }

  /** Main's own traffic rolls up like counters: counts add up, histograms merge, per (version, hour). */
  #rollUpMainTraffic(before: number): void {
    const sql = this.ctx.storage.sql;
    const hours = new Map<string, MainTrafficRow>();
    for (const row of sql.exec<MainTrafficRow>(
      "SELECT * FROM main_traffic WHERE minute < ? AND minute % 60 != 0",
      before,
    )) {
      const minute = row.minute - (row.minute % HOUR_MINUTES);
      const key = JSON.stringify([row.version, minute]);
      const hour = hours.get(key);
      if (!hour) {
        hours.set(key, { ...row, minute });
        continue;
      }
      for (const column of MAIN_TRAFFIC_COLUMNS) hour[column] += row[column];
      hour.latency = mergedJson(hour.latency, JSON.parse(row.latency) as HistogramJson);
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
        stored ? mergedJson(stored.latency, JSON.parse(hour.latency) as HistogramJson) : hour.latency,
      );
    }
    sql.exec("DELETE FROM main_traffic WHERE minute < ? AND minute % 60 != 0", before);
  }

  #ensureSchema(): void {
    if (this.#schemaReady) return;
    prepareSchema(this.ctx.storage);
    this.#fields.clear();
    this.#schemaReady = true;
  }

  /** The window's rows that `query` asks for (see WindowQuery). */
  #window(query: WindowQuery): WindowRows {
    const { lo, hi, since, baseline, perMinute } = query;
    const sql = this.ctx.storage.sql;
    const counters: CounterRow[] = [];
    const signatures: SignatureRow[] = [];
    // null: every version compared with the baseline (an older main's shadows).
    for (const version of query.versions ?? [null]) {
      const which = version === null ? "" : "version = ? AND ";
      const args = version === null ? [baseline, since, hi] : [version, baseline, since, hi];
      counters.push(
        ...sql
          .exec<CounterRow>(`SELECT * FROM counters WHERE ${which}baseline = ? AND minute >= ? AND minute < ?`, ...args)
          .toArray(),
      );
      signatures.push(
        ...sql
          .exec<SignatureRow>(
            perMinute
              ? `SELECT version, minute, partial, signature, count FROM signatures
                 WHERE ${which}baseline = ? AND minute >= ? AND minute < ?`
              : `SELECT version, MIN(minute) AS minute, partial, signature, SUM(count) AS count FROM signatures
                 WHERE ${which}baseline = ? AND minute >= ? AND minute < ? GROUP BY version, partial, signature`,
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
        "SELECT SUM(sampled) AS sampled FROM noise WHERE minute >= ? AND minute < ?",
        since,
        hi,
      )
      .one().sampled;
    const paths = sql
      .exec<{ field: string; count: number }>(
        "SELECT field, SUM(count) AS count FROM noise_paths WHERE minute >= ? AND minute < ? GROUP BY field",
        since,
        hi,
      )
      .toArray();
    return {
      counters,
      signatures,
      noise: { sampled: Number(sampled ?? 0), paths: Object.fromEntries(paths.map((row) => [row.field, row.count])) },
      mainTraffic,
    };
  }

  /**
   * Keeps the newest five samples per (version, path), with bodies cut to
   * 8 KiB: a new sample takes the place of its paths' oldest, and a sample
   * no path keeps any more is deleted. A version indexes samples under at
   * most MAX_FIELDS_PER_VERSION distinct paths, so rows stay bounded.
   */
  #keepSample(sample: StoredSample): void {
    const sql = this.ctx.storage.sql;
    let indexed: number | undefined;
    const paths = [...new Set(sample.paths)].filter((path) => {
      const kept = sql
        .exec("SELECT 1 FROM sample_paths WHERE version = ? AND path = ? LIMIT 1", sample.version, path)
        .toArray().length;
      if (kept > 0) return true;
      indexed ??= sql
        .exec<{ n: number }>("SELECT COUNT(DISTINCT path) AS n FROM sample_paths WHERE version = ?", sample.version)
        .one().n;
      if (indexed >= MAX_FIELDS_PER_VERSION) return false;
      indexed++;
      return true;
    });
    if (paths.length === 0) return;
    const { version, ...exchange } = sample;
    const stored: ExchangeSample = { ...exchange, main: cutSide(sample.main), shadow: cutSide(sample.shadow) };
    const at = Date.parse(sample.at);
    const minute = Math.floor((Number.isNaN(at) ? Date.now() : at) / MINUTE_MS);
    const { id } = sql
      .exec<{ id: number }>(
        "INSERT INTO samples (version, minute, sample) VALUES (?, ?, ?) RETURNING id",
        version,
        minute,
        JSON.stringify(stored),
      )
      .one();
    for (const path of paths) {
      sql.exec("INSERT INTO sample_paths VALUES (?, ?, ?)", version, path, id);
      sql.exec(
        `DELETE FROM sample_paths WHERE version = ? AND path = ? AND sample_id NOT IN
           (SELECT sample_id FROM sample_paths WHERE version = ? AND path = ? ORDER BY sample_id DESC LIMIT ?)`,
        version,
        path,
        version,
        path,
        SAMPLES_PER_PATH,
      );
    }
    sql.exec(
      "DELETE FROM samples WHERE version = ? AND id NOT IN (SELECT sample_id FROM sample_paths WHERE version = ?)",
      version,
      version,
    );
  }
}

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

/** What a report reads, decided on shard 0 (see `#baselineOf`); `promoted` is when `main` last took over. */
interface BaselineRead {
  main: string;
  current: boolean;
  promoted: number | undefined;
  query: WindowQuery;
}

/** The report's JSON around its shadows, the same with or without a series. */
function assembleReport(
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
function assembleWindow(input: ReportInput): EvidenceReport["window"] {
  return { from: new Date(input.from).toISOString(), to: new Date(input.to).toISOString() };
}

/** The counters that add up when minutes roll up into their hour. */
const COUNTER_COLUMNS = [
  "mirrored",
  "compared",
  "not_compared",
  "errors_shadow",
  "down",
  "skipped",
  "unrecorded",
  "errors_main",
] as const;

/** Main's own counts, summed when minutes roll up. */
const MAIN_TRAFFIC_COLUMNS = ["requests", "s2xx", "s3xx", "s4xx", "s5xx"] as const;

function mergedJson(stored: string | undefined, added: HistogramJson): string {
  if (stored === undefined) return JSON.stringify(added);
  const histogram = LatencyHistogram.fromJson(JSON.parse(stored) as HistogramJson);
  histogram.mergeJson(added);
  return JSON.stringify(histogram.toJson());
}

/** The ledger cuts bodies again, so a sample from any writer stays within 8 KiB a side. */
function cutSide(side: SampleSide): SampleSide {
  const { body, cut } = cutBody(side.body);
  return cut ? { ...side, body, truncated: true } : side;
}

/** The report and its series over the window's rows (see `reportWithSeries`). */
function readWithSeries(
  input: ReportInput,
  read: BaselineRead,
  baseline: BaselineReport,
  promotions: ReportSeries["promotions"],
  rows: WindowRows,
): EvidenceReport & { series: ReportSeries } {
  const policy = withDefaults(input.policy);
  // The steps span the whole window; the shadows' evidence only the baseline's part of it.
  const steps = seriesSteps(read.query.lo, read.query.hi);
  const zeros = () => new Array<number>(steps.length).fill(0);
  const histograms = () => Array.from({ length: steps.length }, () => new LatencyHistogram());
  const noise = noiseOf(rows);
  const mainRequests = zeros();
  const mainLatency = histograms();
  const shadows: ShadowReport[] = [];
  const shadowSeries: ReportSeries["versions"] = [];

  for (const version of read.query.versions ?? versionsOf(rows)) {
    const requests = zeros();
    const compared = zeros();
    const different = zeros();
    const latencyShadow = histograms();
    const latencyMain = histograms();
    const evidence = emptyEvidence(version);
    for (const row of rows.counters) {
      if (row.version !== version) continue;
      const i = stepOf(steps, row.minute);
      requests[i] = (requests[i] ?? 0) + row.mirrored;
      compared[i] = (compared[i] ?? 0) + row.compared;
      latencyMain[i]?.mergeJson(JSON.parse(row.latency_main) as HistogramJson);
      latencyShadow[i]?.mergeJson(JSON.parse(row.latency_shadow) as HistogramJson);
      addCounters(evidence, row);
    }
    latencyMain.forEach((histogram, i) => {
      evidence.latencyMain.merge(histogram);
      mainLatency[i]?.merge(histogram);
    });
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
        perStep = zeros();
        signatureSteps.set(key, perStep);
      }
      const i = stepOf(steps, row.minute);
      perStep[i] = (perStep[i] ?? 0) + row.count;
    }

    const report = shadowReport(evidence, noise, policy);
    shadows.push(report);
    // Whether a field counts is decided over the whole window, as in the report; each step then adds its requests.
    const counting = new Set(report.fields.filter((f) => f.counts).map((f) => `${f.path} ${f.kind}`));
    for (const [key, perStep] of signatureSteps) {
      if (!parseSignature(key.slice(1)).some((d) => counting.has(fieldKey(d)))) continue;
      const partial = key[0] === "1";
      perStep.forEach((n, i) => {
        different[i] = (different[i] ?? 0) + n;
        if (partial) compared[i] = (compared[i] ?? 0) + n;
      });
    }
    // Sampling is nested, so main's mirrored requests in a step are those of its widest shadow.
    requests.forEach((n, i) => {
      mainRequests[i] = Math.max(mainRequests[i] ?? 0, n);
    });
    shadowSeries.push({ version, requests, compared, different, p99Ms: latencyShadow.map(p99OrNull) });
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

/** Main's own traffic step by step over the window, whichever version was main. */
function mainSeriesOf(steps: SeriesSteps, rows: WindowRows): ReportSeries["main"] {
  const zeros = () => new Array<number>(steps.length).fill(0);
  const series = { requests: zeros(), status: { "2xx": zeros(), "3xx": zeros(), "4xx": zeros(), "5xx": zeros() } };
  const latency = Array.from({ length: steps.length }, () => new LatencyHistogram());
  const add = (values: number[], i: number, n: number) => {
    values[i] = (values[i] ?? 0) + n;
  };
  for (const row of rows.mainTraffic) {
    const i = stepOf(steps, row.minute);
    add(series.requests, i, row.requests);
    add(series.status["2xx"], i, row.s2xx);
    add(series.status["3xx"], i, row.s3xx);
    add(series.status["4xx"], i, row.s4xx);
    add(series.status["5xx"], i, row.s5xx);
    latency[i]?.mergeJson(JSON.parse(row.latency) as HistogramJson);
  }
  return { ...series, p99Ms: latency.map(p99OrNull) };
}

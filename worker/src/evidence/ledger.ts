import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import {
  cutBody,
  type EvidenceBatch,
  type ExchangeSample,
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
  type VersionMetrics,
  versionMetrics,
} from "./lifetime.ts";
import { CACHED_WINDOW_MINUTES, ReportCache } from "./report-cache.ts";
import { p99OrNull, seriesSteps, stepOf } from "./series.ts";
import {
  type EvidencePolicy,
  type EvidenceReport,
  fieldKey,
  type NoiseEvidence,
  noiseReport,
  parseSignature,
  type ReportSeries,
  type ShadowEvidence,
  type ShadowReport,
  shadowReport,
  signatureOf,
  withDefaults,
} from "./verdict.ts";

const MINUTE_MS = 60_000;
/** Evidence older than this is pruned. */
export const RETENTION_MS = 7 * 24 * 60 * MINUTE_MS;
const PRUNE_EVERY_MS = 60 * MINUTE_MS;

export interface ReportInput {
  name: string;
  /** Window in ms since the epoch: a minute belongs to it when the minute starts in [from, to). */
  from: number;
  to: number;
  main: string;
  shadows: string[];
  policy?: Partial<Omit<EvidencePolicy, "gate">> & { gate?: Partial<EvidencePolicy["gate"]> };
}

/** One row of `counters`, as SQLite returns it. */
type CounterRow = {
  minute: number;
  mirrored: number;
  compared: number;
  not_compared: number;
  errors_shadow: number;
  down: number;
  skipped: number;
  unrecorded: number;
  errors_main: number;
  canary: number;
  latency_main: string;
  latency_shadow: string;
};

/** Signature rows one (version, minute) may hold; past it, new signatures count as `unrecorded`. */
export const MAX_SIGNATURES_PER_MINUTE = 500;
/** Bumped when the tables change: a ledger written by an older gateway is reset, not misread. */
const SCHEMA_VERSION = 3;
/** The `fields` row of main-against-main noise (versions are never empty). */
const NOISE_FIELDS = "";

export interface StoredSample extends ExchangeSample {
  version: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ledger_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (
  version TEXT NOT NULL, minute INTEGER NOT NULL,
  mirrored INTEGER NOT NULL, compared INTEGER NOT NULL, not_compared INTEGER NOT NULL,
  errors_shadow INTEGER NOT NULL, down INTEGER NOT NULL, skipped INTEGER NOT NULL, unrecorded INTEGER NOT NULL,
  errors_main INTEGER NOT NULL, latency_main TEXT NOT NULL, latency_shadow TEXT NOT NULL,
  canary INTEGER NOT NULL,
  PRIMARY KEY (version, minute));
-- partial = 1: requests answered but not body-compared, whose status or headers differed.
CREATE TABLE IF NOT EXISTS signatures (
  version TEXT NOT NULL, minute INTEGER NOT NULL, partial INTEGER NOT NULL, signature TEXT NOT NULL,
  count INTEGER NOT NULL, PRIMARY KEY (version, minute, partial, signature));
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
-- How many batches this ledger has taken: its write load, read by tests and the bench.
CREATE TABLE IF NOT EXISTS writes (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL);
`;

/** Every table of evidence, dropped when an older layout is found. */
const EVIDENCE_TABLES = [
  "counters",
  "signatures",
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

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#ensureSchema();
      this.#alarmSet = (await ctx.storage.getAlarm()) !== null;
    });
  }

  async record(batch: EvidenceBatch): Promise<void> {
    this.#ensureSchema();
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
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
      sql.exec("INSERT INTO writes VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET count = count + 1");
    });
    if (!this.#alarmSet) {
      await this.ctx.storage.setAlarm(Date.now() + PRUNE_EVERY_MS);
      this.#alarmSet = true;
    }
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
        "SELECT latency_main, latency_shadow FROM counters WHERE version = ? AND minute = ?",
        m.version,
        m.minute,
      )
      .toArray()[0];
    let compared = m.compared;
    let notCompared = m.notCompared;
    let unrecorded = m.unrecorded;
    let rows = sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM signatures WHERE version = ? AND minute = ?", m.version, m.minute)
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
            "SELECT 1 FROM signatures WHERE version = ? AND minute = ? AND partial = ? AND signature = ?",
            m.version,
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
          `INSERT INTO signatures VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (version, minute, partial, signature) DO UPDATE SET count = count + excluded.count`,
          m.version,
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
      `INSERT INTO counters VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (version, minute) DO UPDATE SET
         mirrored = mirrored + excluded.mirrored, compared = compared + excluded.compared,
         not_compared = not_compared + excluded.not_compared, errors_shadow = errors_shadow + excluded.errors_shadow,
         down = down + excluded.down, skipped = skipped + excluded.skipped,
         unrecorded = unrecorded + excluded.unrecorded, errors_main = errors_main + excluded.errors_main,
         latency_main = excluded.latency_main, latency_shadow = excluded.latency_shadow,
         canary = canary + excluded.canary`,
      m.version,
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
    return this.#cached("report", input, (lo, hi) => {
      const policy = withDefaults(input.policy);
      const noise = this.#noiseEvidence(lo, hi);
      const shadows = input.shadows.map((version) => shadowReport(this.#evidenceOf(version, lo, hi), noise, policy));
      return assembleReport(input, shadows, noise);
    });
  }

  /** A long window's report from the cache while its last minute is the same (see ReportCache). */
  #cached<T extends EvidenceReport>(kind: string, input: ReportInput, read: (lo: number, hi: number) => T): T {
    const lo = Math.ceil(input.from / MINUTE_MS);
    const hi = Math.ceil(input.to / MINUTE_MS);
    if (hi - lo < CACHED_WINDOW_MINUTES) return read(lo, hi);
    const key = JSON.stringify([kind, lo, input.main, input.shadows, input.policy ?? null]);
    const hit = this.#reports.get(key, hi) as T | undefined;
    if (hit) return { ...hit, window: assembleWindow(input) };
    const report = read(lo, hi);
    this.#reports.set(key, report);
    return report;
  }

  /** Newest samples first; with `path`, only those kept for that path. */
  async diffs(
    version: string,
    options: { path?: string; limit?: number } = {},
  ): Promise<{ samples: ExchangeSample[] }> {
    this.#ensureSchema();
    const limit = Math.max(1, Math.min(options.limit ?? 10, 100));
    const sql = this.ctx.storage.sql;
    const rows =
      options.path === undefined
        ? sql.exec<{ sample: string }>(
            "SELECT sample FROM samples WHERE version = ? ORDER BY id DESC LIMIT ?",
            version,
            limit,
          )
        : sql.exec<{ sample: string }>(
            `SELECT s.sample FROM samples s JOIN sample_paths p ON p.sample_id = s.id
             WHERE p.version = ? AND p.path = ? ORDER BY s.id DESC LIMIT ?`,
            version,
            options.path,
            limit,
          );
    return { samples: rows.toArray().map((row) => JSON.parse(row.sample) as ExchangeSample) };
  }

  /**
   * The report with its window step by step (`series`), for charts. One pass
   * over the window's rows builds both, so they add up and a long window is
   * read once: each step keeps its own sums and histograms, and the window's
   * evidence is their merge.
   */
  async reportWithSeries(input: ReportInput): Promise<EvidenceReport & { series: ReportSeries }> {
    this.#ensureSchema();
    return this.#cached("series", input, (lo, hi) => this.#readWithSeries(input, lo, hi));
  }

  #readWithSeries(input: ReportInput, lo: number, hi: number): EvidenceReport & { series: ReportSeries } {
    const policy = withDefaults(input.policy);
    const sql = this.ctx.storage.sql;
    const steps = seriesSteps(lo, hi);
    const zeros = () => new Array<number>(steps.length).fill(0);
    const histograms = () => Array.from({ length: steps.length }, () => new LatencyHistogram());
    const noise = this.#noiseEvidence(lo, hi);
    const mainRequests = zeros();
    const mainLatency = histograms();
    const shadows: ShadowReport[] = [];
    const shadowSeries: ReportSeries["versions"] = [];

    for (const version of input.shadows) {
      const requests = zeros();
      const compared = zeros();
      const different = zeros();
      const latencyShadow = histograms();
      const latencyMain = histograms();
      const evidence = emptyEvidence(version);
      for (const row of sql.exec<CounterRow>(
        "SELECT * FROM counters WHERE version = ? AND minute >= ? AND minute < ?",
        version,
        lo,
        hi,
      )) {
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
      for (const row of sql.exec<{ minute: number; partial: number; signature: string; count: number }>(
        "SELECT minute, partial, signature, count FROM signatures WHERE version = ? AND minute >= ? AND minute < ?",
        version,
        lo,
        hi,
      )) {
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

    return {
      ...assembleReport(input, shadows, noise),
      series: {
        from: new Date(steps.first * MINUTE_MS).toISOString(),
        stepSeconds: steps.step * 60,
        versions: [{ version: input.main, requests: mainRequests, p99Ms: mainLatency.map(p99OrNull) }, ...shadowSeries],
      },
    };
  }

  /**
   * Forgets one version's counters, signatures and samples: it was killed, and
   * a version deployed again under that number starts with no evidence. Noise
   * stays, because it describes the name's main.
   */
  async forget(version: string): Promise<void> {
    this.#ensureSchema();
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
    return versionMetrics(this.ctx.storage.sql, withDefaults(input.policy), hour);
  }

  /** Forgets everything: the name was killed. */
  async destroy(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#fields.clear();
    this.#reports.clear();
    this.#schemaReady = false;
    this.#alarmSet = false;
  }

  override async alarm(): Promise<void> {
    this.#ensureSchema();
    const cutoff = Math.floor((Date.now() - RETENTION_MS) / MINUTE_MS);
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      sql.exec("DELETE FROM counters WHERE minute < ?", cutoff);
      sql.exec("DELETE FROM signatures WHERE minute < ?", cutoff);
      sql.exec("DELETE FROM fields WHERE last_minute < ?", cutoff);
      sql.exec("DELETE FROM noise WHERE minute < ?", cutoff);
      sql.exec("DELETE FROM noise_paths WHERE minute < ?", cutoff);
      sql.exec("DELETE FROM sample_paths WHERE sample_id IN (SELECT id FROM samples WHERE minute < ?)", cutoff);
      sql.exec("DELETE FROM samples WHERE minute < ?", cutoff);
    });
    this.#fields.clear();
    this.#reports.clear();
    const left = sql
      .exec<{ n: number }>("SELECT (SELECT COUNT(*) FROM counters) + (SELECT COUNT(*) FROM noise) AS n")
      .one().n;
    if (left > 0) {
      await this.ctx.storage.setAlarm(Date.now() + PRUNE_EVERY_MS);
    } else {
      this.#alarmSet = false;
    }
  }

  #ensureSchema(): void {
    if (this.#schemaReady) return;
    prepareSchema(this.ctx.storage);
    this.#fields.clear();
    this.#schemaReady = true;
  }

  #evidenceOf(version: string, lo: number, hi: number): ShadowEvidence {
    const sql = this.ctx.storage.sql;
    const evidence = emptyEvidence(version);
    for (const row of sql.exec<CounterRow>(
      "SELECT * FROM counters WHERE version = ? AND minute >= ? AND minute < ?",
      version,
      lo,
      hi,
    )) {
      addCounters(evidence, row);
      evidence.latencyMain.mergeJson(JSON.parse(row.latency_main) as HistogramJson);
      evidence.latencyShadow.mergeJson(JSON.parse(row.latency_shadow) as HistogramJson);
    }
    for (const row of sql.exec<{ signature: string; partial: number; count: number }>(
      `SELECT signature, partial, SUM(count) AS count FROM signatures
       WHERE version = ? AND minute >= ? AND minute < ? GROUP BY partial, signature`,
      version,
      lo,
      hi,
    )) {
      (row.partial ? evidence.partialSignatures : evidence.signatures).set(row.signature, row.count);
    }
    return evidence;
  }

  /** Main against main over the minutes [lo, hi). */
  #noiseEvidence(lo: number, hi: number): NoiseEvidence {
    const sql = this.ctx.storage.sql;
    const sampled = sql
      .exec<{ sampled: number | null }>(
        "SELECT SUM(sampled) AS sampled FROM noise WHERE minute >= ? AND minute < ?",
        lo,
        hi,
      )
      .one().sampled;
    const noise: NoiseEvidence = { sampled: Number(sampled ?? 0), paths: new Map() };
    for (const row of sql.exec<{ field: string; count: number }>(
      "SELECT field, SUM(count) AS count FROM noise_paths WHERE minute >= ? AND minute < ? GROUP BY field",
      lo,
      hi,
    )) {
      noise.paths.set(row.field, row.count);
    }
    return noise;
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
  if (stored === SCHEMA_VERSION) return;
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

/** A version's evidence before any row of the window is added. */
function emptyEvidence(version: string): ShadowEvidence {
  return {
    version,
    mirrored: 0,
    compared: 0,
    notCompared: 0,
    errors: 0,
    down: 0,
    skipped: 0,
    unrecorded: 0,
    canary: 0,
    errorsMain: 0,
    latencyMain: new LatencyHistogram(),
    latencyShadow: new LatencyHistogram(),
    signatures: new Map(),
    partialSignatures: new Map(),
  };
}

/** Adds one counters row to a window's evidence (histograms are merged by the caller). */
function addCounters(evidence: ShadowEvidence, row: CounterRow): void {
  evidence.mirrored += row.mirrored;
  evidence.compared += row.compared;
  evidence.notCompared += row.not_compared;
  evidence.errors += row.errors_shadow;
  evidence.down += row.down;
  evidence.skipped += row.skipped;
  evidence.unrecorded += row.unrecorded;
  evidence.canary = (evidence.canary ?? 0) + row.canary;
  evidence.errorsMain += row.errors_main;
}

/** The report's JSON around its shadows, the same with or without a series. */
function assembleReport(input: ReportInput, shadows: ShadowReport[], noise: NoiseEvidence): EvidenceReport {
  return {
    name: input.name,
    main: input.main,
    window: assembleWindow(input),
    shadows,
    noise: noiseReport(noise),
  };
}

/** The window as asked for, even when its evidence comes from the cache. */
function assembleWindow(input: ReportInput): EvidenceReport["window"] {
  return { from: new Date(input.from).toISOString(), to: new Date(input.to).toISOString() };
}

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

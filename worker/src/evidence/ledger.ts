import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { cutBody, type EvidenceBatch, type ExchangeSample, SAMPLES_PER_PATH, type SampleSide } from "./batch.ts";
import { type HistogramJson, LatencyHistogram } from "./histogram.ts";
import { addToLifetime, forgetLifetime, LIFETIME_SCHEMA, type VersionMetrics, versionMetrics } from "./lifetime.ts";
import { p99OrNull, seriesSteps, stepOf } from "./series.ts";
import {
  type EvidencePolicy,
  type EvidenceReport,
  type NoiseEvidence,
  noiseReport,
  parseSignature,
  type ReportSeries,
  type ShadowEvidence,
  type ShadowReport,
  shadowReport,
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
  skipped: number;
  errors_main: number;
  errors_shadow: number;
  latency_main: string;
  latency_shadow: string;
};

export interface StoredSample extends ExchangeSample {
  version: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS counters (
  version TEXT NOT NULL, minute INTEGER NOT NULL,
  mirrored INTEGER NOT NULL, compared INTEGER NOT NULL, not_compared INTEGER NOT NULL, skipped INTEGER NOT NULL,
  errors_main INTEGER NOT NULL, errors_shadow INTEGER NOT NULL,
  latency_main TEXT NOT NULL, latency_shadow TEXT NOT NULL,
  PRIMARY KEY (version, minute));
CREATE TABLE IF NOT EXISTS signatures (
  version TEXT NOT NULL, minute INTEGER NOT NULL, signature TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (version, minute, signature));
-- Noise is main against main, whichever version was main that minute: it describes the service's answers.
CREATE TABLE IF NOT EXISTS noise (minute INTEGER PRIMARY KEY, sampled INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS noise_paths (
  minute INTEGER NOT NULL, path TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (minute, path));
CREATE TABLE IF NOT EXISTS samples (
  id INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT NOT NULL, minute INTEGER NOT NULL, sample TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sample_paths (
  version TEXT NOT NULL, path TEXT NOT NULL, sample_id INTEGER NOT NULL, PRIMARY KEY (version, path, sample_id));
CREATE INDEX IF NOT EXISTS samples_by_minute ON samples (minute);
-- How many batches this ledger has taken: its write load, read by tests and the bench.
CREATE TABLE IF NOT EXISTS writes (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL);
`;

/**
 * The evidence of one service name: per (version, minute) counters and
 * latency histograms, signatures of differences, noise, and samples.
 * Isolates write batches; the report applies noise and ignore rules when it
 * reads, so a policy change corrects past windows.
 */
export class EvidenceLedger extends DurableObject<Env> {
  #schemaReady = false;
  #alarmSet = false;

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
      for (const m of batch.shadows) {
        const existing = sql
          .exec<{ latency_main: string; latency_shadow: string }>(
            "SELECT latency_main, latency_shadow FROM counters WHERE version = ? AND minute = ?",
            m.version,
            m.minute,
          )
          .toArray()[0];
        const latencyMain = mergedJson(existing?.latency_main, m.latencyMain);
        const latencyShadow = mergedJson(existing?.latency_shadow, m.latencyShadow);
        sql.exec(
          `INSERT INTO counters VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (version, minute) DO UPDATE SET
             mirrored = mirrored + excluded.mirrored, compared = compared + excluded.compared,
             not_compared = not_compared + excluded.not_compared, skipped = skipped + excluded.skipped,
             errors_main = errors_main + excluded.errors_main, errors_shadow = errors_shadow + excluded.errors_shadow,
             latency_main = excluded.latency_main, latency_shadow = excluded.latency_shadow`,
          m.version,
          m.minute,
          m.mirrored,
          m.compared,
          m.notCompared,
          m.skipped,
          m.errorsMain,
          m.errorsShadow,
          latencyMain,
          latencyShadow,
        );
        for (const [signature, count] of Object.entries(m.signatures)) {
          sql.exec(
            `INSERT INTO signatures VALUES (?, ?, ?, ?)
             ON CONFLICT (version, minute, signature) DO UPDATE SET count = count + excluded.count`,
            m.version,
            m.minute,
            signature,
            count,
          );
        }
      }
      for (const n of batch.noise) {
        sql.exec(
          "INSERT INTO noise VALUES (?, ?) ON CONFLICT (minute) DO UPDATE SET sampled = sampled + excluded.sampled",
          n.minute,
          n.sampled,
        );
        for (const [path, count] of Object.entries(n.paths)) {
          sql.exec(
            `INSERT INTO noise_paths VALUES (?, ?, ?)
             ON CONFLICT (minute, path) DO UPDATE SET count = count + excluded.count`,
            n.minute,
            path,
            count,
          );
        }
      }
      for (const sample of batch.samples) this.#keepSample(sample);
      addToLifetime(sql, batch);
      sql.exec("INSERT INTO writes VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET count = count + 1");
    });
    if (!this.#alarmSet) {
      await this.ctx.storage.setAlarm(Date.now() + PRUNE_EVERY_MS);
      this.#alarmSet = true;
    }
  }

  async report(input: ReportInput): Promise<EvidenceReport> {
    this.#ensureSchema();
    const policy = withDefaults(input.policy);
    const lo = Math.ceil(input.from / MINUTE_MS);
    const hi = Math.ceil(input.to / MINUTE_MS);
    const noise = this.#noiseEvidence(lo, hi);
    const shadows = input.shadows.map((version) => shadowReport(this.#evidenceOf(version, lo, hi), noise, policy));
    return assembleReport(input, shadows, noise);
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
    const policy = withDefaults(input.policy);
    const sql = this.ctx.storage.sql;
    const lo = Math.ceil(input.from / MINUTE_MS);
    const hi = Math.ceil(input.to / MINUTE_MS);
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
        evidence.mirrored += row.mirrored;
        evidence.compared += row.compared;
        evidence.notCompared += row.not_compared;
        evidence.skipped += row.skipped;
        evidence.errorsMain += row.errors_main;
        evidence.errorsShadow += row.errors_shadow;
      }
      latencyMain.forEach((histogram, i) => {
        evidence.latencyMain.merge(histogram);
        mainLatency[i]?.merge(histogram);
      });
      for (const histogram of latencyShadow) evidence.latencyShadow.merge(histogram);

      const signatureSteps = new Map<string, number[]>();
      for (const row of sql.exec<{ minute: number; signature: string; count: number }>(
        "SELECT minute, signature, count FROM signatures WHERE version = ? AND minute >= ? AND minute < ?",
        version,
        lo,
        hi,
      )) {
        evidence.signatures.set(row.signature, (evidence.signatures.get(row.signature) ?? 0) + row.count);
        let perStep = signatureSteps.get(row.signature);
        if (!perStep) {
          perStep = zeros();
          signatureSteps.set(row.signature, perStep);
        }
        const i = stepOf(steps, row.minute);
        perStep[i] = (perStep[i] ?? 0) + row.count;
      }

      const report = shadowReport(evidence, noise, policy);
      shadows.push(report);
      // Whether a field counts is decided over the whole window, as in the report; each step then adds its requests.
      const counting = new Set(report.fields.filter((f) => f.counts).map((f) => `${f.path} ${f.kind}`));
      for (const [signature, perStep] of signatureSteps) {
        if (!parseSignature(signature).some((d) => counting.has(`${d.path} ${d.kind}`))) continue;
        perStep.forEach((n, i) => {
          different[i] = (different[i] ?? 0) + n;
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
      sql.exec("DELETE FROM sample_paths WHERE version = ?", version);
      sql.exec("DELETE FROM samples WHERE version = ?", version);
      forgetLifetime(sql, version);
    });
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
      sql.exec("DELETE FROM noise WHERE minute < ?", cutoff);
      sql.exec("DELETE FROM noise_paths WHERE minute < ?", cutoff);
      sql.exec("DELETE FROM sample_paths WHERE sample_id IN (SELECT id FROM samples WHERE minute < ?)", cutoff);
      sql.exec("DELETE FROM samples WHERE minute < ?", cutoff);
    });
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
    this.ctx.storage.sql.exec(SCHEMA + LIFETIME_SCHEMA);
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
      evidence.mirrored += row.mirrored;
      evidence.compared += row.compared;
      evidence.notCompared += row.not_compared;
      evidence.skipped += row.skipped;
      evidence.errorsMain += row.errors_main;
      evidence.errorsShadow += row.errors_shadow;
      evidence.latencyMain.mergeJson(JSON.parse(row.latency_main) as HistogramJson);
      evidence.latencyShadow.mergeJson(JSON.parse(row.latency_shadow) as HistogramJson);
    }
    for (const row of sql.exec<{ signature: string; count: number }>(
      `SELECT signature, SUM(count) AS count FROM signatures
       WHERE version = ? AND minute >= ? AND minute < ? GROUP BY signature`,
      version,
      lo,
      hi,
    )) {
      evidence.signatures.set(row.signature, row.count);
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
    for (const row of sql.exec<{ path: string; count: number }>(
      "SELECT path, SUM(count) AS count FROM noise_paths WHERE minute >= ? AND minute < ? GROUP BY path",
      lo,
      hi,
    )) {
      noise.paths.set(row.path, row.count);
    }
    return noise;
  }

  /** Keeps a sample only for the paths that have fewer than five, with bodies cut to 8 KiB. */
  #keepSample(sample: StoredSample): void {
    const sql = this.ctx.storage.sql;
    const wanted = [...new Set(sample.paths)].filter(
      (path) =>
        sql
          .exec<{ n: number }>(
            "SELECT COUNT(*) AS n FROM sample_paths WHERE version = ? AND path = ?",
            sample.version,
            path,
          )
          .one().n < SAMPLES_PER_PATH,
    );
    if (wanted.length === 0) return;
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
    for (const path of wanted) sql.exec("INSERT INTO sample_paths VALUES (?, ?, ?)", version, path, id);
  }
}

/** A version's evidence before any row of the window is added. */
function emptyEvidence(version: string): ShadowEvidence {
  return {
    version,
    mirrored: 0,
    compared: 0,
    notCompared: 0,
    skipped: 0,
    errorsMain: 0,
    errorsShadow: 0,
    latencyMain: new LatencyHistogram(),
    latencyShadow: new LatencyHistogram(),
    signatures: new Map(),
  };
}

/** The report's JSON around its shadows, the same with or without a series. */
function assembleReport(input: ReportInput, shadows: ShadowReport[], noise: NoiseEvidence): EvidenceReport {
  return {
    name: input.name,
    main: input.main,
    window: { from: new Date(input.from).toISOString(), to: new Date(input.to).toISOString() },
    shadows,
    noise: noiseReport(noise),
  };
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

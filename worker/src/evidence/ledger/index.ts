import { DurableObject } from "cloudflare:workers";
import { MAX_LEDGER_SHARDS } from "../../config.ts";
import type { Env } from "../../env.ts";
import type { EvidenceBatch, ExchangeSample } from "../batch.ts";
import { CACHED_WINDOW_MINUTES, ReportCache } from "../report-cache.ts";
import { askCoordinator, RolloutWatch } from "../rollout-watch.ts";
import { shardName } from "../shards.ts";
import { type EvidenceReport, type ReportSeries, shadowReport, withDefaults } from "../verdict.ts";
import { KnownFields } from "./known-fields.ts";
import { forgetLifetime, lifetimeParts, metricsOf, type VersionMetrics } from "./lifetime.ts";
import {
  assembleReport,
  assembleWindow,
  type BaselineRead,
  baselineOf,
  baselineReport,
  promotionsOf,
  type ReportInput,
  windowRows,
} from "./read.ts";
import { recordBatch } from "./record.ts";
import { pruneAndRollUp } from "./rollup.ts";
import { readSamples } from "./samples.ts";
import { prepareSchema } from "./schema.ts";
import { readWithSeries } from "./series.ts";
import {
  evidenceOf,
  type LifetimeJson,
  mainTrafficOf,
  mergeWindows,
  noiseOf,
  versionsOf,
  type WindowQuery,
  type WindowRows,
} from "./window.ts";

export type { ReportInput } from "./read.ts";
export { MAX_SIGNATURES_PER_MINUTE } from "./record.ts";
export { RETENTION_MS, ROLLUP_AFTER_MS } from "./rollup.ts";
export { prepareSchema } from "./schema.ts";

const MINUTE_MS = 60_000;
const PRUNE_EVERY_MS = 60 * MINUTE_MS;

/** Where a sharded call reaches the name's other shards (shard 0 only). */
type Sharded = { name: string; shards?: number } | undefined;

/**
 * The evidence of one service name: per (version, minute) counters and
 * latency histograms, signatures of differences, noise, and samples.
 * Isolates write batches; the report applies noise and ignore rules when it
 * reads, so a policy change corrects past windows. This class only
 * sequences: each step is a function of the folder's modules.
 */
export class EvidenceLedger extends DurableObject<Env> {
  #schemaReady = false;
  #alarmSet = false;
  readonly #reports = new ReportCache<EvidenceReport>();
  readonly #fields: KnownFields;
  #storedSpan: number | undefined;
  /** Asks the coordinator to judge a running rollout when its evidence lands (null: a nameless object). */
  readonly #rollouts: RolloutWatch | null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#fields = new KnownFields(ctx.storage.sql);
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
    this.ctx.storage.transactionSync(() => recordBatch({ sql, fields: this.#fields }, batch));
    this.#rollouts?.saw(batch.shadows.map((m) => ({ version: m.version, canary: (m.canary ?? 0) > 0 })));
    if (!this.#alarmSet) {
      await this.ctx.storage.setAlarm(Date.now() + PRUNE_EVERY_MS);
      this.#alarmSet = true;
    }
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

  /** Whether any evidence or traffic was ever kept against this main. On shard 0, with the name: on any of its shards. */
  async hasBaseline(main: string, sharded: Sharded = undefined): Promise<boolean> {
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

  async report(input: ReportInput): Promise<EvidenceReport> {
    this.#ensureSchema();
    return this.#read("report", input, false, (read, rows) => {
      const policy = withDefaults(input.policy);
      const noise = noiseOf(rows);
      const versions = read.query.versions ?? versionsOf(rows);
      const shadows = versions.map((version) => shadowReport(evidenceOf(version, rows), noise, policy));
      const mainTraffic = mainTrafficOf(read.main, read.query.since, rows);
      const baseline = baselineReport(this.ctx.storage.sql, read, rows);
      return assembleReport(input, baseline, mainTraffic, shadows, noise);
    });
  }

  /**
   * The report with its window step by step (`series`), for charts. One pass
   * over the window's rows builds both, so they add up and a long window is
   * read once.
   */
  async reportWithSeries(input: ReportInput): Promise<EvidenceReport & { series: ReportSeries }> {
    this.#ensureSchema();
    const sql = this.ctx.storage.sql;
    return this.#read("series", input, true, (read, rows) =>
      readWithSeries(
        input,
        read,
        baselineReport(sql, read, rows),
        promotionsOf(sql, read.query.lo, read.query.hi),
        rows,
      ),
    );
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
    const sql = this.ctx.storage.sql;
    const read = baselineOf(sql, input, lo, hi, perMinute);
    const own = windowRows(sql, read.query);
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
    return windowRows(this.ctx.storage.sql, query);
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
    const own = readSamples(this.ctx.storage.sql, version, options.path, limit);
    const others = this.#otherShards(options.name, options.shards);
    if (others.length === 0) return { samples: own };
    const theirs = await Promise.all(
      others.map((shard) => shard.diffs(version, { path: options.path, limit: options.limit })),
    );
    const all = [own, ...theirs.map((part) => part.samples)].flat().sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
    return { samples: all.slice(0, limit) };
  }

  /**
   * Forgets one version's counters, signatures and samples: it was killed, and
   * a version deployed again under that number starts with no evidence. Noise
   * stays, because it describes the name's main.
   */
  async forget(version: string, sharded: Sharded = undefined): Promise<void> {
    this.#ensureSchema();
    const others = this.#otherShards(sharded?.name, sharded?.shards);
    await Promise.all(others.map((shard) => shard.forget(version)));
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (const table of ["counters", "signatures", "route_counts", "fields", "sample_paths", "samples"]) {
        sql.exec(`DELETE FROM ${table} WHERE version = ?`, version);
      }
      forgetLifetime(sql, version);
    });
    this.#fields.forget(version);
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
  async destroy(sharded: Sharded = undefined): Promise<void> {
    this.#ensureSchema();
    const others = this.#otherShards(sharded?.name, sharded?.shards);
    await Promise.all(others.map((shard) => shard.destroy()));
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#fields.forget();
    this.#reports.clear();
    this.#schemaReady = false;
    this.#alarmSet = false;
    this.#storedSpan = undefined;
  }

  override async alarm(): Promise<void> {
    this.#ensureSchema();
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => pruneAndRollUp(sql, Date.now()));
    this.#fields.forget();
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

  #ensureSchema(): void {
    if (this.#schemaReady) return;
    prepareSchema(this.ctx.storage);
    this.#fields.forget();
    this.#schemaReady = true;
  }
}

// A busy name's evidence, written straight into its evidence ledger's SQLite file as steady traffic
// would have left it there (worker/src/evidence/ledger/: record.ts writes the rows, rollup.ts folds
// them into hours): per (shadow, baseline, minute) counters with both latency histograms, two
// signatures and the requests per route; per (main, minute) main's own traffic and its noise; the
// fields each version has shown. Minutes older than 3 hours are already rolled up into the row of
// their hour, as the ledger's hourly alarm leaves them. Lifetime totals (Prometheus's) are left
// alone: no report reads them.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { LatencyHistogram } from "../../worker/src/evidence/histogram.ts";

export interface WeekSeed {
  /** The name's main: every shadow's baseline, and whose noise it is. */
  main: string;
  shadows: string[];
  /** The first and last minute (minutes since the epoch) of traffic. */
  first: number;
  last: number;
  /** Now, in ms: minutes older than ROLLUP_AFTER_MS before it are kept as hours. */
  now: number;
}

const MINUTE_MS = 60_000;
/** As worker/src/evidence/ledger/rollup.ts. */
const ROLLUP_AFTER_MS = 3 * 60 * MINUTE_MS;
/** Every copy of this seed is of one route (routeOf: identifier segments folded). */
export const SEED_ROUTE = "GET /quotes/*";
const TIME = "body.time value";
const PRICE = "body.price value";

/** One minute of one shadow: 300 copies (290 compared, 5 not compared, 5 failed), main failed twice. */
const COUNTS = {
  mirrored: 300,
  compared: 290,
  not_compared: 5,
  errors_shadow: 5,
  down: 0,
  skipped: 0,
  unrecorded: 0,
  canary: 0,
  errors_main: 2,
  errors_shadow_only: 5,
  errors_main_only: 2,
};
/** Of the compared copies: those whose time differs, and (per minute, 3 to 6) whose price differs too. */
const TIME_ONLY = 200;
const priceToo = (minute: number) => 3 + (minute % 4);
/** Twin copies of main per minute; its time differs from itself in every one. */
const TWINS = 15;

/** Thrown when the ledger's tables are not those this seed writes (another layout, say an older checkout's). */
export class LayoutMismatch extends Error {}

/** An INSERT into `table`, once its columns are checked to be exactly `columns`. */
function insertInto(db: DatabaseSync, table: string, columns: string[]): StatementSync {
  const found = (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map(
    (c) => c.name,
  );
  if (found.length === 0) throw new LayoutMismatch(`the ledger has no table ${table}`);
  if ([...found].sort().join() !== [...columns].sort().join()) {
    throw new LayoutMismatch(
      `the ledger's ${table} has the columns (${found.join(", ")}), the seed writes (${columns.join(", ")}): ` +
        "bring bench/lib/week-seed.ts in step with worker/src/evidence/ledger/schema.ts",
    );
  }
  db.exec(`DELETE FROM ${table}`);
  return db.prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`);
}

/**
 * The rows' minutes: each minute from `first` to `last`, those before the
 * rollup cutoff grouped under the first minute of their hour.
 */
function slots({ first, last, now }: WeekSeed): Map<number, number[]> {
  const before = Math.floor((now - ROLLUP_AFTER_MS) / MINUTE_MS);
  const slots = new Map<number, number[]>();
  for (let minute = first; minute <= last; minute++) {
    const slot = minute < before ? minute - (minute % 60) : minute;
    const minutes = slots.get(slot) ?? [];
    minutes.push(minute);
    slots.set(slot, minutes);
  }
  return slots;
}

/** Main's and a shadow's latencies over `minutes`: ~30 buckets a minute, the shadow a little slower. */
function histograms(minutes: number[]): { main: string; shadow: string } {
  const main = new LatencyHistogram();
  const shadow = new LatencyHistogram();
  for (const minute of minutes) {
    for (let i = 0; i < 30; i++) {
      main.add(5 + ((minute + i * 7) % 60), 10);
      shadow.add(6 + ((minute + i * 11) % 70), 10);
    }
  }
  return { main: JSON.stringify(main.toJson()), shadow: JSON.stringify(shadow.toJson()) };
}

/**
 * Replaces the evidence in the ledger `db` with `seed`'s traffic; answers
 * the rows written. Throws LayoutMismatch, before writing anything, when a
 * table's columns are not what it writes.
 */
export function seedWeek(db: DatabaseSync, seed: WeekSeed): number {
  const counterColumns = Object.keys(COUNTS);
  db.exec("BEGIN");
  try {
    const insert = {
      counters: insertInto(db, "counters", [
        "version",
        "baseline",
        "minute",
        ...counterColumns,
        "latency_main",
        "latency_shadow",
      ]),
      signatures: insertInto(db, "signatures", ["version", "baseline", "minute", "partial", "signature", "count"]),
      routes: insertInto(db, "route_counts", ["version", "baseline", "minute", "route", "requests"]),
      main: insertInto(db, "main_traffic", [
        "version",
        "minute",
        "requests",
        "s2xx",
        "s3xx",
        "s4xx",
        "s5xx",
        "latency",
      ]),
      noise: insertInto(db, "noise", ["main", "minute", "sampled"]),
      noiseRoutes: insertInto(db, "noise_routes", ["main", "minute", "route", "sampled"]),
      noisePaths: insertInto(db, "noise_paths", ["main", "minute", "field", "count"]),
      fields: insertInto(db, "fields", ["version", "field", "last_minute"]),
    };
    let rows = 0;
    for (const [slot, minutes] of slots(seed)) {
      const n = minutes.length;
      const latency = histograms(minutes);
      const price = minutes.reduce((sum, minute) => sum + priceToo(minute), 0);
      for (const version of seed.shadows) {
        const key = [version, seed.main, slot] as const;
        const counts = counterColumns.map((column) => COUNTS[column as keyof typeof COUNTS] * n);
        insert.counters.run(...key, ...counts, latency.main, latency.shadow);
        insert.signatures.run(...key, 0, `${SEED_ROUTE}\t${TIME}`, TIME_ONLY * n);
        insert.signatures.run(...key, 0, `${SEED_ROUTE}\t${PRICE}\n${TIME}`, price);
        insert.routes.run(...key, SEED_ROUTE, (COUNTS.compared + COUNTS.not_compared) * n);
        rows += 4;
      }
      const served = COUNTS.mirrored * n;
      insert.main.run(
        seed.main,
        slot,
        served,
        served - COUNTS.errors_main * n,
        0,
        0,
        COUNTS.errors_main * n,
        latency.main,
      );
      insert.noise.run(seed.main, slot, TWINS * n);
      insert.noiseRoutes.run(seed.main, slot, SEED_ROUTE, TWINS * n);
      insert.noisePaths.run(seed.main, slot, `${SEED_ROUTE}\t${TIME}`, TWINS * n);
      rows += 4;
    }
    // '' is main's noise and '\troutes' the name's routes (known-fields.ts).
    const fields: [string, string][] = [
      ...seed.shadows.flatMap((version): [string, string][] => [
        [version, TIME],
        [version, PRICE],
      ]),
      ["", TIME],
      ["\troutes", SEED_ROUTE],
    ];
    for (const [version, field] of fields) insert.fields.run(version, field, seed.last);
    db.exec("COMMIT");
    return rows + fields.length;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

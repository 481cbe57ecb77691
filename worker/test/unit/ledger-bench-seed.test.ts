// `npm run bench:report` times reports over a week it writes straight into a ledger's SQLite file
// (bench/lib/week-seed.ts). Its rows must be in the tables schema.ts creates and read by the
// ledger's own read code as the traffic they stand for, or the bench times an empty report.
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { LayoutMismatch, SEED_ROUTE, seedWeek, type WeekSeed } from "../../../bench/lib/week-seed.ts";
import { windowRows } from "../../src/evidence/ledger/read.ts";
import { pruneAndRollUp } from "../../src/evidence/ledger/rollup.ts";
import { prepareSchema } from "../../src/evidence/ledger/schema.ts";
import { evidenceOf, noiseOf } from "../../src/evidence/ledger/window.ts";
import { defaultPolicy, shadowReport } from "../../src/evidence/verdict.ts";

/** A Durable Object's SQL storage over node:sqlite (SQLite either way): the ledger's functions run on it as they are. */
function storageOf(db: DatabaseSync): DurableObjectStorage {
  const exec = (query: string, ...bindings: SQLInputValue[]) => {
    // The schema is one script of several statements, which only exec runs; prepare answers a SELECT's rows.
    let rows: unknown[] = [];
    if (bindings.length === 0 && !/^\s*SELECT/i.test(query)) db.exec(query);
    else rows = db.prepare(query).all(...bindings);
    return { toArray: () => rows, one: () => rows[0], [Symbol.iterator]: () => rows[Symbol.iterator]() };
  };
  const transactionSync = <T>(body: () => T): T => {
    db.exec("BEGIN");
    try {
      const result = body();
      db.exec("COMMIT");
      return result;
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  };
  return { sql: { exec }, transactionSync } as unknown as DurableObjectStorage;
}

const MINUTE = 60_000;
const NOW = Date.UTC(2026, 11, 6, 12, 0, 30);
const LAST = Math.floor(NOW / MINUTE);
const DAY: WeekSeed = { main: "1.0.0", shadows: ["1.1.0", "1.2.0"], first: LAST - 24 * 60 + 1, last: LAST, now: NOW };
const TABLES = ["counters", "signatures", "route_counts", "main_traffic", "noise", "noise_routes", "noise_paths"];

function seededLedger(): { db: DatabaseSync; sql: SqlStorage } {
  const db = new DatabaseSync(":memory:");
  const storage = storageOf(db);
  prepareSchema(storage);
  seedWeek(db, DAY);
  return { db, sql: storage.sql };
}

/** Rows per table and the sums a report adds up: what a rollup must leave as it is. */
function contents(db: DatabaseSync): Record<string, unknown> {
  const one = (query: string) => Object.values(db.prepare(query).get() ?? {})[0];
  return {
    ...Object.fromEntries(TABLES.map((table) => [table, one(`SELECT COUNT(*) FROM ${table}`)])),
    mirrored: one("SELECT SUM(mirrored) FROM counters"),
    signatures: one("SELECT SUM(count) FROM signatures"),
    twins: one("SELECT SUM(sampled) FROM noise"),
  };
}

describe("the evidence npm run bench:report seeds", () => {
  it("is read by the ledger as a day of 300 copies a minute per shadow, against main, with main's noise", () => {
    const { sql } = seededLedger();
    // The day's first hour is kept as one row at the hour's start, which may be before the day's first minute.
    const lo = DAY.first - (DAY.first % 60);
    const query = { lo, hi: LAST + 1, since: lo, baseline: "1.0.0", versions: DAY.shadows, perMinute: false };
    const rows = windowRows(sql, query);
    const minutes = 24 * 60;
    expect(noiseOf(rows).sampled).toBe(15 * minutes);
    expect(rows.mainTraffic.reduce((sum, row) => sum + row.requests, 0)).toBe(300 * minutes);
    let priceDiffers = 0;
    for (let minute = DAY.first; minute <= LAST; minute++) priceDiffers += 3 + (minute % 4);
    for (const version of DAY.shadows) {
      const evidence = evidenceOf(version, rows);
      expect(evidence.mirrored).toBe(300 * minutes);
      expect(evidence.latencyShadow.count).toBe(300 * minutes);
      expect(evidence.routes.get(SEED_ROUTE)).toBe(295 * minutes);
      // main differs from itself in body.time on every twin, so only the price counts against the shadow.
      const report = shadowReport(evidence, noiseOf(rows), defaultPolicy);
      expect(report.requests.different).toBe(priceDiffers);
      expect(report.fields.filter((f) => f.counts).map((f) => f.path)).toEqual(["body.price"]);
    }
    // Against another main there is nothing: every row names its baseline.
    expect(windowRows(sql, { ...query, baseline: "0.9.0" }).counters).toEqual([]);
  });

  it("is already as the ledger's hourly rollup leaves it: hours past 3 h old, minutes since", () => {
    const { db, sql } = seededLedger();
    const before = contents(db);
    // Per shadow, from 12:01 yesterday to 12:00 today: the hours 12:00 to 08:00 (21), then the minutes 09:00 to 12:00 (181).
    expect(before.counters).toBe(2 * (21 + 181));
    pruneAndRollUp(sql, NOW);
    expect(contents(db)).toEqual(before);
  });

  it("refuses a ledger of another layout in one sentence, and leaves it as it was", () => {
    const db = new DatabaseSync(":memory:");
    prepareSchema(storageOf(db));
    db.exec("INSERT INTO main_traffic VALUES ('1.0.0', 1, 1, 1, 0, 0, 0, '{}')");
    // noise as it was before it was kept per main.
    db.exec("DROP TABLE noise; CREATE TABLE noise (minute INTEGER PRIMARY KEY, sampled INTEGER NOT NULL)");
    expect(() => seedWeek(db, DAY)).toThrow(LayoutMismatch);
    expect(() => seedWeek(db, DAY)).toThrow(/^the ledger's noise has the columns \(minute, sampled\)/);
    expect(db.prepare("SELECT COUNT(*) AS n FROM main_traffic").get()).toEqual({ n: 1 });
    expect(db.prepare("SELECT COUNT(*) AS n FROM counters").get()).toEqual({ n: 0 });
  });
});

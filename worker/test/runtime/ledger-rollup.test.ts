import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { MainMinute, NoiseMinute, WireMinuteCounts } from "../../src/evidence/batch.ts";
import { LatencyHistogram } from "../../src/evidence/histogram.ts";
import type { EvidenceLedger, ReportInput } from "../../src/evidence/ledger/index.ts";

const MINUTE = 60_000;
/** A week but its oldest hour, which the alarm's 7-day pruning may take. */
const WEEK_MINUTES = (7 * 24 - 1) * 60;
/** The start of the current hour: the seeded week ends here, so report windows fall on hour edges. */
const HOUR = Math.floor(Date.now() / (60 * MINUTE)) * 60 * MINUTE;

const latencyOf = (ms: number, count: number) => {
  const histogram = new LatencyHistogram();
  histogram.add(ms, count);
  return histogram.toJson();
};

/** One seeded minute: traffic and latency that vary with the minute, a difference on some requests. */
function seededMinute(version: string, minute: number, baseline = "1.0.0"): WireMinuteCounts {
  const mirrored = 5 + (minute % 7);
  const latency = (ms: number) => latencyOf(ms, mirrored);
  return {
    version,
    baseline,
    minute,
    mirrored,
    compared: mirrored,
    notCompared: 0,
    errorsShadow: minute % 11 === 0 ? 1 : 0,
    down: 0,
    skipped: minute % 5,
    unrecorded: 0,
    errorsMain: 0,
    latencyMain: latency(10 + (minute % 40)),
    latencyShadow: latency(12 + (minute % 90)),
    signatures: minute % 3 === 0 ? { "body.price value": 1 } : {},
    partialSignatures: {},
  };
}

/** Main's own traffic in one seeded minute: more requests than were mirrored, a few 5xx. */
function seededMain(minute: number): MainMinute {
  const requests = 20 + (minute % 13);
  const s5xx = minute % 17 === 0 ? 1 : 0;
  return {
    version: "1.0.0",
    minute,
    requests,
    status: [requests - s5xx, 0, 0, s5xx],
    latency: latencyOf(9 + (minute % 50), requests),
  };
}

/**
 * A week of minutes, ending at the current hour, written in batches of a day
 * or less: 2.0.0 against main 1.0.0 with main's own traffic, and every
 * tenth minute 2.0.0 against an older main 0.9.0 too, which must not mix in.
 */
async function seedWeek(ledger: DurableObjectStub<EvidenceLedger>): Promise<void> {
  const first = HOUR / MINUTE - WEEK_MINUTES;
  for (let start = 0; start < WEEK_MINUTES; start += 24 * 60) {
    const minutes = Array.from({ length: Math.min(24 * 60, WEEK_MINUTES - start) }, (_, i) => first + start + i);
    const noise: NoiseMinute[] = minutes
      .filter((m) => m % 4 === 0)
      .map((minute) => {
        const paths: Record<string, number> = minute % 8 === 0 ? { "GET /\tbody.at value": 1 } : {};
        return { main: "1.0.0", minute, sampled: 2, routes: { "GET /": 2 }, paths };
      });
    // The older main's own twins, kept apart from 1.0.0's.
    const olderNoise: NoiseMinute[] = minutes
      .filter((m) => m % 10 === 0)
      .map((minute) => ({ main: "0.9.0", minute, sampled: 3, routes: { "GET /": 3 }, paths: {} }));
    await ledger.record({
      main: minutes.map(seededMain),
      shadows: [
        ...minutes.map((minute) => seededMinute("2.0.0", minute)),
        ...minutes.filter((m) => m % 10 === 0).map((minute) => seededMinute("2.0.0", minute, "0.9.0")),
      ],
      noise: [...noise, ...olderNoise],
      samples: [],
      dropped: 0,
    });
  }
}

const weekInput = (name: string): ReportInput => ({
  name,
  from: HOUR - WEEK_MINUTES * MINUTE,
  to: HOUR,
  main: "1.0.0",
  shadows: ["2.0.0"],
});

describe("rollups", { timeout: 120_000 }, () => {
  it("keep a seeded week's totals, quantiles and fields while a 7-day report reads a few hundred rows", async () => {
    const name = `rollup_${crypto.randomUUID().slice(0, 8)}`;
    const ledger = env.EVIDENCE_LEDGER.getByName(name);
    await seedWeek(ledger);
    const input = weekInput(name);
    // Rows a week's report reads, counted by the ledger's own window read.
    const rowsRead = () =>
      runInDurableObject(ledger, async (instance: EvidenceLedger) => {
        const lo = input.from / MINUTE;
        const hi = input.to / MINUTE;
        const query = { lo, hi, since: lo, baseline: "1.0.0", versions: ["2.0.0"], perMinute: true };
        const rows = await instance.windowRows(query);
        return {
          counters: rows.counters.length,
          signatures: rows.signatures.length,
          mainTraffic: rows.mainTraffic.length,
        };
      });

    const older = { ...input, baseline: "0.9.0" };
    const before = await ledger.reportWithSeries(input);
    const olderBefore = await ledger.report(older);
    const readBefore = await rowsRead();
    expect(readBefore.counters).toBe(WEEK_MINUTES);
    expect(readBefore.mainTraffic).toBe(WEEK_MINUTES);

    await runDurableObjectAlarm(ledger);

    const after = await ledger.reportWithSeries({ ...input, to: input.to + 1 });
    const readAfter = await rowsRead();
    expect(after.shadows).toEqual(before.shadows);
    expect(after.noise).toEqual(before.noise);
    expect(after.mainTraffic).toEqual(before.mainTraffic);
    expect(before.mainTraffic.requests).toBeGreaterThan(WEEK_MINUTES * 20);
    // The older baseline's evidence rolled up under its own key: the same totals, still apart from 1.0.0's.
    const olderAfter = await ledger.report({ ...older, to: older.to + 1 });
    expect(olderAfter.shadows).toEqual(olderBefore.shadows);
    expect(olderAfter.noise).toEqual(olderBefore.noise);
    expect(olderBefore.noise.sampled).toBe(3 * Math.ceil(WEEK_MINUTES / 10));
    expect(before.noise.sampled).toBe(2 * (WEEK_MINUTES / 4));
    expect(olderBefore.shadows[0]?.requests.mirrored).toBeLessThan((before.shadows[0]?.requests.mirrored ?? 0) / 5);
    expect(before.shadows[0]?.requests.mirrored).toBeGreaterThan(WEEK_MINUTES * 5);
    // At most four hours of minutes, then one row an hour.
    expect(readAfter.counters).toBeLessThanOrEqual(4 * 60 + 7 * 24);
    expect(readAfter.signatures).toBeLessThanOrEqual(4 * 20 + 7 * 24);
    expect(readAfter.mainTraffic).toBeLessThanOrEqual(4 * 60 + 7 * 24);
    // The series still adds up to the window's totals.
    const shadowSeries = after.series.versions[1];
    expect(shadowSeries?.requests.reduce((sum, n) => sum + n, 0)).toBe(before.shadows[0]?.requests.mirrored);
    expect(after.series.main.requests.reduce((sum, n) => sum + n, 0)).toBe(before.mainTraffic.requests);
  });

  it("rolls up again without counting a minute twice", async () => {
    const name = `rollup_${crypto.randomUUID().slice(0, 8)}`;
    const ledger = env.EVIDENCE_LEDGER.getByName(name);
    await seedWeek(ledger);
    const input = weekInput(name);
    const before = await ledger.report(input);
    await runDurableObjectAlarm(ledger);
    // A late batch for an old minute lands after the rollup, and the next rollup folds it in.
    const late = seededMinute("2.0.0", HOUR / MINUTE - 24 * 60 + 1);
    await ledger.record({ shadows: [late], noise: [], samples: [], dropped: 0 });
    await runInDurableObject(ledger, async (_instance: EvidenceLedger, state) => {
      await state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(ledger);
    const after = await ledger.report({ ...input, to: input.to + 1 });
    expect(after.shadows[0]?.requests.mirrored).toBe((before.shadows[0]?.requests.mirrored ?? 0) + late.mirrored);
  });
});

describe("pruning", () => {
  it("finds old minutes and a sample's paths through indexes, without scanning a table", async () => {
    const ledger = env.EVIDENCE_LEDGER.getByName(`prune_${crypto.randomUUID().slice(0, 8)}`);
    await ledger.record({ shadows: [seededMinute("2.0.0", HOUR / MINUTE)], noise: [], samples: [], dropped: 0 });
    const plans = await runInDurableObject(ledger, (_instance: EvidenceLedger, state) => {
      const plan = (statement: string) =>
        state.storage.sql
          .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${statement}`)
          .toArray()
          .map((row) => row.detail)
          .join("; ");
      return [
        plan("DELETE FROM counters WHERE minute < 5"),
        plan("DELETE FROM signatures WHERE minute < 5"),
        plan("DELETE FROM fields WHERE last_minute < 5"),
        plan("DELETE FROM noise WHERE minute < 5"),
        plan("DELETE FROM noise_paths WHERE minute < 5"),
        plan("DELETE FROM samples WHERE minute < 5"),
        plan("DELETE FROM sample_paths WHERE sample_id IN (SELECT id FROM samples WHERE minute < 5)"),
      ];
    });
    for (const plan of plans) {
      expect(plan).not.toMatch(/\bSCAN\b/);
      expect(plan).toMatch(/SEARCH/);
    }
  });
});

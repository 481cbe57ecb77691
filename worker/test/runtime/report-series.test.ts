import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { MinuteCounts } from "../../src/evidence/batch.ts";
import { LatencyHistogram } from "../../src/evidence/histogram.ts";
import type { EvidenceReport, PolicyOverrides, ReportSeries } from "../../src/evidence/verdict.ts";
import { api, deploy, recordEvidence } from "./admin-client.ts";

const origins = inject("origins");
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let names = 0;
/** A fresh name with main 1.0.0 and the given shadows. */
async function freshName(...shadows: string[]): Promise<string> {
  const name = `series_${++names}`;
  expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
  for (const version of shadows) expect((await deploy(name, version, origins.v2)).status).toBe(201);
  return name;
}

const report = (name: string, query = "") => api<EvidenceReport>("GET", `/services/${name}/report${query}`);

/** The report with its series, which must be there. */
async function seriesOf(name: string, window = "1h"): Promise<{ report: EvidenceReport; series: ReportSeries }> {
  const res = await report(name, `?window=${window}&series=true`);
  expect(res.status).toBe(200);
  const { series } = res.body;
  if (!series) throw new Error("the report carries no series");
  return { report: res.body, series };
}

/** The step holding the moment `at`. */
const stepAt = (series: ReportSeries, at: number) =>
  Math.floor((at - Date.parse(series.from)) / (series.stepSeconds * 1000));

/** A list of `length` values, `fill` everywhere but at the given steps. */
function steps<T>(length: number, fill: T, values: [number, T][]): T[] {
  const list = new Array<T>(length).fill(fill);
  for (const [i, value] of values) list[i] = value;
  return list;
}

/** Histograms read back within 5 %. */
function near(ms: number) {
  return expect.toSatisfy((value: number) => Math.abs(value - ms) <= ms * 0.05, `within 5 % of ${ms} ms`);
}

const sum = (values: readonly number[] | undefined) => (values ?? []).reduce((a, b) => a + b, 0);

function histogramOf(latencies: [number, number][]) {
  const h = new LatencyHistogram();
  for (const [ms, times] of latencies) h.add(ms, times);
  return h.toJson();
}

/** Writes whole minutes through the ledger's `record` RPC, histograms and signatures as given. */
async function recordMinutes(name: string, minutes: (Partial<MinuteCounts> & { version: string; at: number })[]) {
  await env.EVIDENCE_LEDGER.getByName(name).record({
    shadows: minutes.map(({ at, ...m }) => ({
      baseline: "1.0.0",
      minute: Math.floor(at / MINUTE),
      mirrored: m.compared ?? 0,
      compared: 0,
      notCompared: 0,
      errorsShadow: 0,
      down: 0,
      skipped: 0,
      unrecorded: 0,
      errorsMain: 0,
      latencyMain: {},
      latencyShadow: {},
      signatures: {},
      partialSignatures: {},
      ...m,
    })),
    noise: [],
    samples: [],
    dropped: 0,
  });
}

describe("GET /services/:name/report?series=true", () => {
  it("steps a 1h window minute by minute: requests, compared, different and p99 per version, main first", async () => {
    const name = await freshName("2.0.0", "3.0.0");
    const now = Date.now();
    // 2.0.0 takes every request; 3.0.0 is a 10 % shadow, so it saw a share of the same ones.
    await recordEvidence(name, "2.0.0", {
      at: now,
      mirrored: 42,
      compared: 40,
      different: { "body.price": 4 },
      latencyMs: { main: 20, shadow: 70 },
    });
    await recordEvidence(name, "3.0.0", { at: now, compared: 4, latencyMs: { main: 20, shadow: 100 } });
    await recordEvidence(name, "2.0.0", { at: now - 10 * MINUTE, compared: 20, latencyMs: { main: 30, shadow: 30 } });

    const { report, series } = await seriesOf(name);
    expect(series.stepSeconds).toBe(60);
    // The first step is the first whole minute of the window, which ends with the current minute.
    const windowFrom = Date.parse(report.window.from);
    expect(Date.parse(series.from)).toBe(Math.ceil(windowFrom / MINUTE) * MINUTE);
    const length = 60;
    const last = stepAt(series, now);
    const earlier = stepAt(series, now - 10 * MINUTE);
    expect([last, earlier]).toEqual([59, 49]);

    expect(series.versions).toEqual([
      {
        version: "1.0.0",
        requests: steps(length, 0, [
          [last, 42],
          [earlier, 20],
        ]),
        p99Ms: steps<unknown>(length, null, [
          [last, near(20)],
          [earlier, near(30)],
        ]),
      },
      {
        version: "2.0.0",
        requests: steps(length, 0, [
          [last, 42],
          [earlier, 20],
        ]),
        compared: steps(length, 0, [
          [last, 40],
          [earlier, 20],
        ]),
        different: steps(length, 0, [[last, 4]]),
        p99Ms: steps<unknown>(length, null, [
          [last, near(70)],
          [earlier, near(30)],
        ]),
      },
      {
        version: "3.0.0",
        requests: steps(length, 0, [[last, 4]]),
        compared: steps(length, 0, [[last, 4]]),
        different: steps(length, 0, []),
        p99Ms: steps<unknown>(length, null, [[last, near(100)]]),
      },
    ]);
    // The steps add up to the report's numbers.
    const [v2] = series.versions.slice(1);
    expect([sum(v2?.requests), sum(v2?.compared), sum(v2?.different)]).toEqual([
      report.shadows[0]?.requests.mirrored,
      report.shadows[0]?.requests.compared,
      report.shadows[0]?.requests.different,
    ]);
  });

  it("counts differences as the report does: noise never, a request once, an ignored path in no past step", async () => {
    const name = await freshName("2.0.0");
    const now = Date.now();
    const a = now - 5 * MINUTE;
    const b = now - 2 * MINUTE;
    await recordMinutes(name, [
      {
        version: "2.0.0",
        at: a,
        compared: 100,
        // 10 requests differ at the price and the time together, 70 at the time alone.
        signatures: { "GET /\tbody.price value\nbody.time value": 10, "GET /\tbody.time value": 70 },
      },
      { version: "2.0.0", at: b, compared: 100, signatures: { "GET /\tbody.price value": 5 } },
    ]);
    // Main against itself differs at body.time almost always on that route: noise, so the time counts nowhere.
    await env.EVIDENCE_LEDGER.getByName(name).record({
      shadows: [],
      noise: [
        {
          main: "1.0.0",
          minute: Math.floor(a / MINUTE),
          sampled: 40,
          routes: { "GET /": 40 },
          paths: { "GET /\tbody.time value": 36 },
        },
      ],
      samples: [],
      dropped: 0,
    });

    const before = await seriesOf(name);
    const different = (s: ReportSeries) => s.versions[1]?.different ?? [];
    const ia = stepAt(before.series, a);
    const ib = stepAt(before.series, b);
    expect(different(before.series)).toEqual(
      steps(60, 0, [
        [ia, 10],
        [ib, 5],
      ]),
    );
    expect(before.report.shadows[0]?.requests.different).toBe(15);

    const ignored = await api("PUT", `/services/${name}/policy`, { body: { ignore: ["body.price"] } });
    expect(ignored.status).toBe(200);
    const after = await seriesOf(name);
    expect(different(after.series)).toEqual(steps(60, 0, []));
    expect(after.series.versions[1]?.compared).toEqual(
      steps(60, 0, [
        [ia, 100],
        [ib, 100],
      ]),
    );
    expect(after.report.shadows[0]?.requests.different).toBe(0);
  });

  it("merges a wide step's histograms before it takes p99, rather than taking the worst minute", async () => {
    const name = await freshName("2.0.0");
    // Two minutes of the same 6-minute step of a 24 h window.
    const first = Math.floor((Date.now() - 3 * HOUR) / (6 * MINUTE)) * 6 * MINUTE;
    await recordMinutes(name, [
      {
        version: "2.0.0",
        at: first,
        compared: 100,
        // 2 % of this minute is slow: its own p99 would be 400 ms.
        latencyShadow: histogramOf([
          [10, 98],
          [400, 2],
        ]),
        latencyMain: histogramOf([[10, 100]]),
      },
      {
        version: "2.0.0",
        at: first + MINUTE,
        compared: 100,
        latencyShadow: histogramOf([[10, 100]]),
        latencyMain: histogramOf([
          [15, 99],
          [300, 1],
        ]),
      },
    ]);
    const { series } = await seriesOf(name, "24h");
    const i = stepAt(series, first);
    expect(stepAt(series, first + MINUTE)).toBe(i);
    // 2 slow of 200 is 1 %: the step's p99 is the fast requests'.
    expect(series.versions[1]?.p99Ms[i]).toEqual(near(10));
    expect(series.versions[0]?.p99Ms[i]).toEqual(near(15));
    expect(series.versions[1]?.compared?.[i]).toBe(200);
  });

  it("carries exactly the report it would answer without series", async () => {
    const name = await freshName("2.0.0", "3.0.0");
    const now = Date.now();
    await recordEvidence(name, "2.0.0", {
      at: now - 20 * MINUTE,
      mirrored: 130,
      compared: 120,
      notCompared: 3,
      skipped: 10,
      different: { "body.price": 6, "body.time": 90, "header.etag": 2 },
      errorsMain: 1,
      errorsShadow: 4,
      latencyMs: { main: 12, shadow: 45 },
      noise: { sampled: 9, paths: { "body.time value": 8 } },
    });
    await recordEvidence(name, "2.0.0", { at: now, compared: 40, latencyMs: { main: 200, shadow: 210 } });
    await recordEvidence(name, "3.0.0", { at: now - 3 * MINUTE, compared: 15, different: { "body.id": 15 } });
    await recordEvidence(name, "3.0.0", { at: now - 2 * HOUR, compared: 1000 });
    const ledger = env.EVIDENCE_LEDGER.getByName(name);
    const cases: [number, PolicyOverrides][] = [
      [HOUR, { ignore: ["header"] }],
      [DAY, { ignore: ["body.price"], gate: { minRequests: 10 } }],
    ];
    for (const [window, policy] of cases) {
      const input = { name, from: now - window, to: now, main: "1.0.0", shadows: ["2.0.0", "3.0.0"], policy };
      const { series, ...report } = await ledger.reportWithSeries(input);
      expect(report).toEqual(await ledger.report(input));
      expect(series.versions.map((v) => v.version)).toEqual(["1.0.0", "2.0.0", "3.0.0"]);
    }
  });

  it.each([
    ["5m", 60, 5],
    ["1h", 60, 60],
    ["4h", 60, 240],
    ["24h", 360, 240],
    ["7d", 2520, 240],
  ])("steps a %s window by %i s, in about %i steps that cover it", async (window, stepSeconds, count) => {
    const name = await freshName("2.0.0");
    const { report, series } = await seriesOf(name, window);
    expect(series.stepSeconds).toBe(stepSeconds);
    const from = Date.parse(series.from);
    // Steps start on multiples of their size, so a refresh keeps its buckets.
    expect(from % (stepSeconds * 1000)).toBe(0);
    const windowFrom = Date.parse(report.window.from);
    const windowTo = Date.parse(report.window.to);
    expect(from).toBeLessThanOrEqual(windowFrom + MINUTE);
    expect(from).toBeGreaterThan(windowFrom - stepSeconds * 1000);
    for (const version of series.versions) {
      expect([count, count + 1]).toContain(version.requests.length);
      expect(version.p99Ms).toHaveLength(version.requests.length);
      // The last step holds the current minute.
      expect(from + version.requests.length * stepSeconds * 1000).toBeGreaterThanOrEqual(windowTo);
      expect(from + (version.requests.length - 1) * stepSeconds * 1000).toBeLessThanOrEqual(windowTo);
    }
  });

  it("places evidence of the whole 7d window, and adds up to the report", async () => {
    const name = await freshName("2.0.0");
    const now = Date.now();
    const moments = [now - 6 * DAY, now - 2 * DAY - 5 * HOUR, now - 3 * HOUR, now];
    for (const [k, at] of moments.entries()) {
      await recordEvidence(name, "2.0.0", { at, compared: 10 ** k, latencyMs: { main: 10, shadow: 20 } });
    }
    const { report, series } = await seriesOf(name, "7d");
    const shadow = series.versions[1];
    const length = shadow?.requests.length ?? 0;
    expect(shadow?.compared).toEqual(
      steps(
        length,
        0,
        moments.map((at, k) => [stepAt(series, at), 10 ** k]),
      ),
    );
    expect(shadow?.p99Ms.filter((p99) => p99 !== null)).toHaveLength(4);
    expect(sum(shadow?.compared)).toBe(report.shadows[0]?.requests.compared);
    expect(series.versions[0]?.requests).toEqual(shadow?.requests);
  });

  it("answers zeros and nulls for a shadow without evidence, and main alone for a name without shadows", async () => {
    const lonely = await freshName();
    expect((await seriesOf(lonely, "5m")).series.versions).toEqual([
      { version: "1.0.0", requests: [0, 0, 0, 0, 0], p99Ms: [null, null, null, null, null] },
    ]);
    const quiet = await freshName("2.0.0");
    const { versions } = (await seriesOf(quiet, "5m")).series;
    expect(versions[1]).toEqual({
      version: "2.0.0",
      requests: [0, 0, 0, 0, 0],
      compared: [0, 0, 0, 0, 0],
      different: [0, 0, 0, 0, 0],
      p99Ms: [null, null, null, null, null],
    });
  });

  it.each(["", "?series=false", "?series=0", "?window=24h"])(
    "leaves the report as it is without series (%s)",
    async (query) => {
      const name = await freshName("2.0.0");
      await recordEvidence(name, "2.0.0", { compared: 3 });
      const res = await report(name, query);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(["name", "main", "window", "baseline", "mainTraffic", "shadows", "noise"]);
    },
  );

  it("takes 1 for true", async () => {
    const name = await freshName("2.0.0");
    const res = await report(name, "?series=1");
    expect(res.body.series?.stepSeconds).toBe(60);
  });

  it.each([
    ["yes", "series must be true or false (or 1 or 0)"],
    ["TRUE", "series must be true or false (or 1 or 0)"],
    ["", "series must be true or false (or 1 or 0)"],
    ["true&series=true", "series must be given once, not 2 times"],
  ])("answers 422 naming series for ?series=%s", async (value, message) => {
    const name = await freshName("2.0.0");
    const res = await report(name, `?series=${value}`);
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({ code: "invalid_field", message, field: "series" });
  });
});

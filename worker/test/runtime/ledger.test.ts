import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import {
  type EvidenceBatch,
  EvidenceBatcher,
  type ExchangeSample,
  type MinuteCounts,
  SAMPLE_BODY_BYTES,
  type ShadowResult,
  type WireMinuteCounts,
} from "../../src/evidence/batch.ts";
import type { Difference } from "../../src/evidence/compare.ts";
import { compareAnswers } from "../../src/evidence/compare.ts";
import { MAX_FIELDS_PER_VERSION } from "../../src/evidence/fields.ts";
import {
  type EvidenceLedger,
  MAX_SIGNATURES_PER_MINUTE,
  prepareSchema,
  type ReportInput,
} from "../../src/evidence/ledger/index.ts";

const MINUTE = 60_000;
/** A whole minute in the recent past, so the alarm's 7-day pruning leaves it alone. */
const NOW = Math.floor(Date.now() / MINUTE) * MINUTE;

let counter = 0;
function ledgerFor(prefix: string) {
  const name = `${prefix}_${++counter}`;
  return { name, ledger: env.EVIDENCE_LEDGER.getByName(name) };
}

/** A batcher whose every flush goes straight to the real ledger, and whose writes are counted. */
function realBatcher(name: string) {
  const ledger = env.EVIDENCE_LEDGER.getByName(name);
  const writes: EvidenceBatch[] = [];
  const batcher = new EvidenceBatcher(
    async (_name, batch) => {
      writes.push(batch);
      await ledger.record(batch);
    },
    { intervalMs: 50 },
  );
  const pending: Promise<unknown>[] = [];
  return {
    batcher,
    writes,
    waitUntil: (promise: Promise<unknown>) => {
      pending.push(promise);
    },
    settle: async () => {
      while (pending.length > 0) await Promise.all(pending.splice(0));
    },
  };
}

function json(body: unknown, status = 200) {
  return {
    status,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    bodyComplete: true,
  };
}

function exchangeSample(
  main: ReturnType<typeof json>,
  shadow: ReturnType<typeof json>,
  differences: readonly Difference[],
  i: number,
): ExchangeSample {
  const side = (a: ReturnType<typeof json>) => ({
    status: a.status,
    headers: a.headers,
    body: a.body,
    truncated: false,
  });
  return {
    at: new Date(NOW).toISOString(),
    requestId: `req-${i}`,
    method: "GET",
    url: `/services/hello/items/${i}`,
    paths: differences.map((d) => d.path),
    main: side(main),
    shadow: side(shadow),
  };
}

/** Compares real JSON answers and feeds the outcome through the batcher, as the proxy will. */
function feed(
  tools: ReturnType<typeof realBatcher>,
  name: string,
  i: number,
  main: ReturnType<typeof json>,
  shadow: ReturnType<typeof json>,
  extra: Partial<ShadowResult> = {},
) {
  const { differences } = compareAnswers(main, shadow);
  tools.batcher.addShadow(
    name,
    {
      version: "2.0.0",
      baseline: "1.0.0",
      at: NOW,
      outcome: shadow.status >= 500 ? "error" : "compared",
      differences,
      mainError: main.status >= 500,
      latencyMs: { main: 20, shadow: 20 },
      sample: () => exchangeSample(main, shadow, differences, i),
      route: "GET /items/*",
      ...extra,
    },
    tools.waitUntil,
  );
}

const hour = (name: string, extra: Partial<ReportInput> = {}): ReportInput => ({
  name,
  from: NOW - 59 * MINUTE,
  to: NOW + MINUTE,
  main: "1.0.0",
  shadows: ["2.0.0"],
  policy: { gate: { minRequests: 100 } },
  ...extra,
});

function counts(version: string, minute: number, extra: Partial<MinuteCounts> = {}): WireMinuteCounts {
  return {
    version,
    baseline: "1.0.0",
    minute: Math.floor(minute / MINUTE),
    mirrored: 10,
    compared: 10,
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
    ...extra,
  };
}

describe("EvidenceLedger", () => {
  it("reports a field that differs on 10 % of compared requests at rate 0.1, with samples of both bodies", async () => {
    const { name, ledger } = ledgerFor("ten_percent");
    const tools = realBatcher(name);
    for (let i = 0; i < 200; i++) {
      const main = json({ id: i, price: 10 });
      const shadow = json({ id: i, price: i % 10 === 0 ? 11 : 10 });
      feed(tools, name, i, main, shadow);
    }
    await tools.settle();
    const report = await ledger.report(hour(name));
    const [shadow] = report.shadows;
    expect(shadow?.requests).toEqual({
      mirrored: 200,
      compared: 200,
      same: 180,
      different: 20,
      error: 0,
      notCompared: 0,
      down: 0,
      skipped: 0,
      unrecorded: 0,
      canary: 0,
    });
    expect(shadow?.fields).toEqual([
      { path: "body.price", kind: "value", count: 20, rate: 0.1, noiseRate: 0, ignored: false, counts: true },
    ]);
    expect(shadow?.verdict).toBe("fail");

    const { samples } = await ledger.diffs("2.0.0", { path: "body.price", limit: 50 });
    expect(samples).toHaveLength(5);
    for (const sample of samples) {
      expect(JSON.parse(sample.main.body).price).toBe(10);
      expect(JSON.parse(sample.shadow.body).price).toBe(11);
      expect(sample.paths).toEqual(["body.price"]);
    }
  });

  it("learns a field that differs on every call as noise: it does not count and the shadow passes", async () => {
    const { name, ledger } = ledgerFor("noise");
    const tools = realBatcher(name);
    // 2,000 requests: what a clean shadow needs for its bands (p99 among them) to be clearly within the limits.
    for (let i = 0; i < 2000; i++) {
      const main = json({ price: 10, time: `t${i}a` });
      feed(tools, name, i, main, json({ price: 10, time: `t${i}b` }));
      if (i % 20 === 0) {
        const again = json({ price: 10, time: `t${i}c` });
        tools.batcher.addNoise(
          name,
          { main: "1.0.0", at: NOW, differences: compareAnswers(main, again).differences, route: "GET /items/*" },
          tools.waitUntil,
        );
      }
    }
    await tools.settle();
    const report = await ledger.report(hour(name));
    expect(report.noise).toEqual({
      sampled: 100,
      routes: [{ route: "GET /items/*", sampled: 100 }],
      fields: [{ route: "GET /items/*", path: "body.time", kind: "value", rate: 1 }],
    });
    const [shadow] = report.shadows;
    expect(shadow?.fields).toEqual([
      { path: "body.time", kind: "value", count: 2000, rate: 1, noiseRate: 1, ignored: false, counts: false },
    ]);
    expect(shadow?.requests.different).toBe(0);
    expect(shadow?.verdict).toBe("pass");
  });

  it("stops counting a path retroactively once the policy ignores it", async () => {
    const { name, ledger } = ledgerFor("ignore");
    const tools = realBatcher(name);
    for (let i = 0; i < 2000; i++) feed(tools, name, i, json({ time: i }), json({ time: -i - 1 }));
    await tools.settle();
    const before = await ledger.report(hour(name));
    expect(before.shadows[0]?.requests.different).toBe(2000);
    expect(before.shadows[0]?.verdict).toBe("fail");
    const after = await ledger.report(hour(name, { policy: { ignore: ["body.time"] } }));
    expect(after.shadows[0]?.requests.different).toBe(0);
    expect(after.shadows[0]?.fields[0]).toMatchObject({ path: "body.time", ignored: true, counts: false });
    expect(after.shadows[0]?.verdict).toBe("pass");
  });

  it("shows a shadow 50 ms slower in its p50 and p99, against main's on the same requests", async () => {
    const { name, ledger } = ledgerFor("slow");
    const tools = realBatcher(name);
    for (let i = 0; i < 200; i++) {
      const main = 20 + (i % 10);
      feed(tools, name, i, json({}), json({}), { latencyMs: { main, shadow: main + 50 } });
    }
    await tools.settle();
    const { latencyMs, verdict, reasons } = (await ledger.report(hour(name))).shadows[0] ?? {};
    const within = (read: number | undefined, exact: number) => Math.abs((read ?? 0) - exact) / exact;
    expect(within(latencyMs?.main.p50, 24)).toBeLessThanOrEqual(0.05);
    expect(within(latencyMs?.shadow.p50, 74)).toBeLessThanOrEqual(0.05);
    expect(within(latencyMs?.main.p99, 29)).toBeLessThanOrEqual(0.05);
    expect(within(latencyMs?.shadow.p99, 79)).toBeLessThanOrEqual(0.05);
    expect(verdict).toBe("fail");
    // 200 requests bound the medians well apart; main's p99 is not bounded above yet on so few.
    expect(reasons).toEqual([expect.stringMatching(/^shadow median between 7\d.\d ms and 7\d.\d ms against main's/)]);
  });

  it("gives a shadow answering 500 on 5 % its error rate against main's", async () => {
    const { name, ledger } = ledgerFor("errors");
    const tools = realBatcher(name);
    for (let i = 0; i < 1000; i++) {
      feed(tools, name, i, json({ ok: true }), i % 20 === 0 ? json({ error: "boom" }, 500) : json({ ok: true }));
    }
    await tools.settle();
    const [shadow] = (await ledger.report(hour(name))).shadows;
    expect(shadow?.errors).toEqual({ main: 0, shadow: 50 });
    expect(shadow?.requests).toMatchObject({ mirrored: 1000, error: 50, compared: 950, same: 950 });
    expect(shadow?.verdict).toBe("fail");
    expect(shadow?.reasons).toEqual([
      expect.stringMatching(
        /^shadow error rate 5% \(50 errors, 0 down, of 1,000\) against main's 0% on the same requests: \+5 points, at least \+\d+(\.\d+)? points at any look, more than the \+1 points allowed$/,
      ),
    ]);
  });

  it("honours window boundaries: a minute counts when it starts inside [from, to)", async () => {
    const { name, ledger } = ledgerFor("window");
    await ledger.record({
      shadows: [
        counts("2.0.0", NOW - 120 * MINUTE, { mirrored: 1 }),
        counts("2.0.0", NOW - 60 * MINUTE, { mirrored: 10 }),
        counts("2.0.0", NOW - 59 * MINUTE, { mirrored: 100 }),
        counts("2.0.0", NOW, { mirrored: 1000 }),
        counts("2.0.0", NOW + MINUTE, { mirrored: 10_000 }),
      ],
      noise: [],
      samples: [],
      dropped: 0,
    });
    const mirrored = async (from: number, to: number) =>
      (await ledger.report(hour(name, { from, to }))).shadows[0]?.requests.mirrored;
    expect(await mirrored(NOW - 60 * MINUTE, NOW + MINUTE)).toBe(1110);
    expect(await mirrored(NOW - 60 * MINUTE + 1, NOW + MINUTE)).toBe(1100);
    expect(await mirrored(NOW - 60 * MINUTE, NOW)).toBe(110);
    expect(await mirrored(NOW - 60 * MINUTE, NOW + 1)).toBe(1110);
    expect(await mirrored(NOW - 7 * 24 * 60 * MINUTE, NOW + 2 * MINUTE)).toBe(11_111);
    const report = await ledger.report(hour(name, { from: NOW - 60 * MINUTE, to: NOW }));
    expect(report.window).toEqual({
      from: new Date(NOW - 60 * MINUTE).toISOString(),
      to: new Date(NOW).toISOString(),
    });
  });

  it("reports a shadow with no evidence as inconclusive with zeros", async () => {
    const { name, ledger } = ledgerFor("empty");
    const report = await ledger.report(hour(name, { shadows: ["2.0.0", "3.0.0"] }));
    expect(report).toEqual({
      name,
      main: "1.0.0",
      window: { from: new Date(NOW - 59 * MINUTE).toISOString(), to: new Date(NOW + MINUTE).toISOString() },
      baseline: { main: "1.0.0", since: null },
      mainTraffic: {
        requests: 0,
        status: { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 },
        latencyMs: { p50: 0, p95: 0, p99: 0 },
      },
      shadows: ["2.0.0", "3.0.0"].map((version) => ({
        version,
        verdict: "inconclusive",
        reasons: [
          "0 copies with an outcome, fewer than the 100 the gate needs",
          "no copies have arrived yet; a shadow identical to main would need at least 820 to pass",
        ],
        requests: {
          mirrored: 0,
          compared: 0,
          same: 0,
          different: 0,
          error: 0,
          notCompared: 0,
          down: 0,
          skipped: 0,
          unrecorded: 0,
          canary: 0,
        },
        errors: { main: 0, shadow: 0 },
        latencyMs: { main: { p50: 0, p95: 0, p99: 0 }, shadow: { p50: 0, p95: 0, p99: 0 } },
        confidence: {
          diffRate: null,
          errorRate: { rate: 0, low: 0, high: 1 },
          mainErrorRate: 0,
          errorIncrease: { rate: 0, low: -1, high: 1 },
          latencySamples: 0,
          latencyMs: {
            p50: { main: { low: 0, high: null }, shadow: { low: 0, high: null } },
            p99: { main: { low: 0, high: null }, shadow: { low: 0, high: null } },
          },
          alpha: 0.01,
          anytime: true,
          moreRequests: null,
        },
        fields: [],
      })),
      noise: { sampled: 0, routes: [], fields: [] },
    });
  });

  it("keeps the newest 5 samples per version and path across batches, bodies cut to 8 KiB", async () => {
    const { name, ledger } = ledgerFor("samples");
    const big = "x".repeat(SAMPLE_BODY_BYTES * 3);
    const sample = (i: number, paths: string[]): ExchangeSample & { version: string } => ({
      version: "2.0.0",
      at: new Date(NOW).toISOString(),
      requestId: `r${i}`,
      method: "POST",
      url: "/services/x/",
      paths,
      main: { status: 200, headers: {}, body: big, truncated: false },
      shadow: { status: 200, headers: {}, body: "short", truncated: false },
    });
    const differing = (signature: string, n: number) => [counts("2.0.0", NOW, { signatures: { [signature]: n } })];
    for (let round = 0; round < 3; round++) {
      await ledger.record({
        shadows: differing("body.a value", 4),
        noise: [],
        samples: Array.from({ length: 4 }, (_, i) => sample(round * 4 + i, ["body.a"])),
        dropped: 0,
      });
    }
    await ledger.record({
      shadows: differing("body.a value\nbody.b value", 1),
      noise: [],
      samples: [sample(99, ["body.a", "body.b"])],
      dropped: 0,
    });
    const a = await ledger.diffs("2.0.0", { path: "body.a", limit: 100 });
    expect(a.samples.map((s) => s.requestId)).toEqual(["r99", "r11", "r10", "r9", "r8"]);
    expect(a.samples[0]?.main).toMatchObject({ truncated: true });
    expect(a.samples[0]?.main.body).toHaveLength(SAMPLE_BODY_BYTES);
    expect(a.samples[0]?.shadow).toEqual({ status: 200, headers: {}, body: "short", truncated: false });
    const b = await ledger.diffs("2.0.0", { path: "body.b" });
    expect(b.samples.map((s) => s.requestId)).toEqual(["r99"]);
    expect((await ledger.diffs("2.0.0", { limit: 2 })).samples.map((s) => s.requestId)).toEqual(["r99", "r11"]);
    // Older samples no path keeps are gone, not just unlisted.
    const stored = await runInDurableObject(
      env.EVIDENCE_LEDGER.getByName(name),
      (_i: EvidenceLedger, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM samples").one().n,
    );
    expect(stored).toBe(5);
    expect((await ledger.diffs("3.0.0")).samples).toEqual([]);
  });

  it("keeps the newest 5 of one batch that brings more, and keeps none of the others", async () => {
    const { name, ledger } = ledgerFor("samples-batch");
    const sample = (i: number): ExchangeSample & { version: string } => ({
      version: "2.0.0",
      at: new Date(NOW).toISOString(),
      requestId: `r${i}`,
      method: "GET",
      url: "/services/x/",
      paths: ["body.a"],
      main: { status: 200, headers: {}, body: "1", truncated: false },
      shadow: { status: 200, headers: {}, body: "2", truncated: false },
    });
    await ledger.record({
      shadows: [counts("2.0.0", NOW, { signatures: { "body.a value": 7 } })],
      noise: [],
      samples: Array.from({ length: 7 }, (_, i) => sample(i)),
      dropped: 0,
    });
    const { samples } = await ledger.diffs("2.0.0", { path: "body.a", limit: 100 });
    expect(samples.map((s) => s.requestId)).toEqual(["r6", "r5", "r4", "r3", "r2"]);
    const stored = await runInDurableObject(env.EVIDENCE_LEDGER.getByName(name), (_i: EvidenceLedger, state) => ({
      samples: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM samples").one().n,
      paths: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sample_paths").one().n,
    }));
    expect(stored).toEqual({ samples: 5, paths: 5 });
  });

  it("takes many requests in few writes", async () => {
    const { name, ledger } = ledgerFor("batching");
    const tools = realBatcher(name);
    for (let i = 0; i < 1000; i++) feed(tools, name, i, json({ a: 1 }), json({ a: 1 }));
    await tools.settle();
    expect(tools.writes.length).toBe(1);
    const [shadow] = (await ledger.report(hour(name))).shadows;
    expect(shadow?.requests.compared).toBe(1000);
  });

  it("is empty after destroy, and usable again", async () => {
    const { name, ledger } = ledgerFor("destroy");
    await ledger.record({
      shadows: [counts("2.0.0", NOW)],
      noise: [{ main: "1.0.0", minute: NOW / MINUTE, sampled: 3, routes: { "GET /": 3 }, paths: {} }],
      samples: [],
      dropped: 0,
    });
    await ledger.destroy();
    const stub = env.EVIDENCE_LEDGER.getByName(name);
    const left = await runInDurableObject(stub, async (_instance: EvidenceLedger, state) => ({
      alarm: await state.storage.getAlarm(),
      tables: state.storage.sql
        .exec(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'",
        )
        .toArray(),
    }));
    expect(left).toEqual({ alarm: null, tables: [] });
    const report = await ledger.report(hour(name));
    expect(report.shadows[0]?.requests.mirrored).toBe(0);
    expect(report.noise.sampled).toBe(0);
    await ledger.record({ shadows: [counts("2.0.0", NOW)], noise: [], samples: [], dropped: 0 });
    expect((await ledger.report(hour(name))).shadows[0]?.requests.mirrored).toBe(10);
  });

  it("forgets one version's counters, signatures and samples, and keeps other versions and the noise", async () => {
    const { name, ledger } = ledgerFor("forget");
    const sample = (version: string, path: string) => ({
      version,
      at: new Date(NOW).toISOString(),
      requestId: `${version}-${path}`,
      method: "GET",
      url: "/",
      paths: [path],
      main: { status: 200, headers: {}, body: "1", truncated: false },
      shadow: { status: 200, headers: {}, body: "2", truncated: false },
    });
    await ledger.record({
      shadows: [
        counts("2.0.0", NOW, { signatures: { "body.a value": 3 } }),
        counts("2.0.0", NOW - 30 * MINUTE),
        counts("3.0.0", NOW, { signatures: { "body.b value": 2 } }),
      ],
      noise: [
        {
          main: "1.0.0",
          minute: NOW / MINUTE,
          sampled: 4,
          routes: { "GET /": 4 },
          paths: { "GET /\tbody.t value": 4 },
        },
      ],
      samples: [sample("2.0.0", "body.a"), sample("3.0.0", "body.b")],
      dropped: 0,
    });
    await ledger.forget("2.0.0");
    const report = await ledger.report(hour(name, { shadows: ["2.0.0", "3.0.0"] }));
    expect(report.shadows.map((s) => [s.version, s.requests.mirrored, s.fields.map((f) => f.path)])).toEqual([
      ["2.0.0", 0, []],
      ["3.0.0", 10, ["body.b"]],
    ]);
    expect(report.noise).toEqual({
      sampled: 4,
      routes: [{ route: "GET /", sampled: 4 }],
      fields: [{ route: "GET /", path: "body.t", kind: "value", rate: 1 }],
    });
    expect((await ledger.diffs("2.0.0")).samples).toEqual([]);
    expect((await ledger.diffs("2.0.0", { path: "body.a" })).samples).toEqual([]);
    expect((await ledger.diffs("3.0.0")).samples.map((s) => s.requestId)).toEqual(["3.0.0-body.b"]);
    // A version deployed again under that number keeps five samples per path from scratch.
    await ledger.record({
      shadows: [counts("2.0.0", NOW, { signatures: { "body.a value": 6 } })],
      noise: [],
      samples: [1, 2, 3, 4, 5, 6].map((i) => ({ ...sample("2.0.0", "body.a"), requestId: `again-${i}` })),
      dropped: 0,
    });
    expect((await ledger.diffs("2.0.0")).samples).toHaveLength(5);
  });

  it("prunes minutes older than 7 days when its alarm runs, and keeps the rest", async () => {
    const { name, ledger } = ledgerFor("prune");
    const old = NOW - 8 * 24 * 60 * MINUTE;
    await ledger.record({
      shadows: [counts("2.0.0", old, { signatures: { "body.a value": 3 } }), counts("2.0.0", NOW)],
      noise: [
        {
          main: "1.0.0",
          minute: old / MINUTE,
          sampled: 5,
          routes: { "GET /": 5 },
          paths: { "GET /\tbody.t value": 5 },
        },
        { main: "1.0.0", minute: NOW / MINUTE, sampled: 1, routes: { "GET /": 1 }, paths: {} },
      ],
      samples: [
        {
          version: "2.0.0",
          at: new Date(old).toISOString(),
          requestId: "old",
          method: "GET",
          url: "/",
          paths: ["body.a"],
          main: { status: 200, headers: {}, body: "", truncated: false },
          shadow: { status: 200, headers: {}, body: "", truncated: false },
        },
      ],
      dropped: 0,
    });
    const everything = hour(name, { from: old - MINUTE, to: NOW + MINUTE });
    expect((await ledger.report(everything)).shadows[0]?.requests.mirrored).toBe(20);
    expect(await runDurableObjectAlarm(env.EVIDENCE_LEDGER.getByName(name))).toBe(true);
    const report = await ledger.report(everything);
    expect(report.shadows[0]?.requests.mirrored).toBe(10);
    expect(report.shadows[0]?.fields).toEqual([]);
    expect(report.noise).toEqual({ sampled: 1, routes: [{ route: "GET /", sampled: 1 }], fields: [] });
    expect((await ledger.diffs("2.0.0")).samples).toEqual([]);
    // Evidence is left, so pruning goes on.
    const alarm = await runInDurableObject(env.EVIDENCE_LEDGER.getByName(name), (_i: EvidenceLedger, state) =>
      state.storage.getAlarm(),
    );
    expect(alarm).not.toBeNull();
  });

  it("caps the distinct fields a version records: keys that do not look like ids still cannot grow it", async () => {
    const { name, ledger } = ledgerFor("capped");
    // Random words as keys: nothing to fold, so only the cap holds them.
    const word = (i: number) =>
      `body.by.${[3, 2, 1, 0].map((p) => "abcdefghijklmnopqrstuvwxyz"[Math.floor(i / 26 ** p) % 26]).join("")}`;
    for (let round = 0; round < 5; round++) {
      const signatures = Object.fromEntries(
        Array.from({ length: 100 }, (_, i) => [`${word(round * 100 + i)} value`, 1]),
      );
      await ledger.record({
        shadows: [counts("2.0.0", NOW, { mirrored: 100, compared: 100, signatures })],
        noise: [],
        samples: [],
        dropped: 0,
      });
    }
    const [shadow] = (await ledger.report(hour(name))).shadows;
    expect(shadow?.requests).toMatchObject({ mirrored: 500, compared: 500, different: 500 });
    expect(shadow?.fields.length).toBe(MAX_FIELDS_PER_VERSION + 1);
    expect(shadow?.fields[0]).toMatchObject({ path: "body", kind: "many", count: 300, counts: true });
    const fields = await runInDurableObject(
      env.EVIDENCE_LEDGER.getByName(name),
      (_i: EvidenceLedger, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM fields WHERE version = '2.0.0'").one().n,
    );
    expect(fields).toBe(MAX_FIELDS_PER_VERSION + 1);
  });

  it("keeps counting past the signature rows a minute may hold, as unrecorded", async () => {
    const { name, ledger } = ledgerFor("rows");
    const signatures = Object.fromEntries(
      Array.from({ length: MAX_SIGNATURES_PER_MINUTE + 20 }, (_, i) => {
        const a = `body.f${"abcdefghijklmnopqrst"[i % 20]}`;
        const b = `body.g${"abcdefghijklmnopqrstuvwxy"[Math.floor(i / 20) % 25]}`;
        const c = `body.h${"abcd"[Math.floor(i / 500)]}`;
        return [`${a} value\n${b} value\n${c} value`, 1];
      }),
    );
    const total = Object.keys(signatures).length;
    await ledger.record({
      shadows: [counts("2.0.0", NOW, { mirrored: total, compared: total, signatures })],
      noise: [],
      samples: [],
      dropped: 0,
    });
    const [shadow] = (await ledger.report(hour(name))).shadows;
    expect(shadow?.requests).toMatchObject({ mirrored: total, different: MAX_SIGNATURES_PER_MINUTE, unrecorded: 20 });
    expect(shadow?.requests.notCompared).toBe(20);
  });

  it("resets a ledger an older gateway wrote, instead of misreading or throwing", async () => {
    const { name } = ledgerFor("upgrade");
    const logs: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      logs.push(String(line));
    });
    const after = await runInDurableObject(env.EVIDENCE_LEDGER.getByName(name), (_i: EvidenceLedger, state) => {
      const sql = state.storage.sql;
      // The first layout, as a user's .wrangler state may hold it: no ledger_schema, no down or unrecorded.
      for (const table of ["ledger_schema", "counters", "signatures", "fields", "noise_paths"]) {
        sql.exec(`DROP TABLE IF EXISTS ${table}`);
      }
      sql.exec(`CREATE TABLE counters (version TEXT NOT NULL, minute INTEGER NOT NULL, mirrored INTEGER NOT NULL,
        compared INTEGER NOT NULL, not_compared INTEGER NOT NULL, skipped INTEGER NOT NULL, errors_main INTEGER NOT NULL,
        errors_shadow INTEGER NOT NULL, latency_main TEXT NOT NULL, latency_shadow TEXT NOT NULL,
        PRIMARY KEY (version, minute))`);
      sql.exec(`CREATE TABLE signatures (version TEXT NOT NULL, minute INTEGER NOT NULL, signature TEXT NOT NULL,
        count INTEGER NOT NULL, PRIMARY KEY (version, minute, signature))`);
      sql.exec("CREATE TABLE noise_paths (minute INTEGER NOT NULL, path TEXT NOT NULL, count INTEGER NOT NULL)");
      sql.exec("INSERT INTO counters VALUES ('2.0.0', ?, 7, 7, 0, 0, 0, 0, '{}', '{}')", NOW / MINUTE);
      prepareSchema(state.storage);
      const columns = sql
        .exec<{ name: string }>("SELECT name FROM pragma_table_info('counters')")
        .toArray()
        .map((c) => c.name);
      const rows = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM counters").one().n;
      // Preparing a current ledger again changes nothing.
      sql.exec("INSERT INTO counters VALUES ('2.0.0', '1.0.0', 1, 1, 1, 0, 0, 0, 0, 0, 0, '{}', '{}', 0, 0, 0)");
      prepareSchema(state.storage);
      const kept = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM counters").one().n;
      return { columns, rows, kept };
    });
    spy.mockRestore();
    expect(after.columns).toEqual(
      expect.arrayContaining(["baseline", "down", "unrecorded", "errors_shadow", "canary", "errors_shadow_only"]),
    );
    expect(after.rows).toBe(0);
    expect(after.kept).toBe(1);
    expect(logs.map((line) => JSON.parse(line))).toEqual([{ event: "ledger_reset", from: 1, to: 8 }]);
  });

  it("resets a ledger written before evidence was kept per baseline: its rows name no main", async () => {
    const { name } = ledgerFor("upgrade-baseline");
    const logs: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      logs.push(String(line));
    });
    const after = await runInDurableObject(env.EVIDENCE_LEDGER.getByName(name), (_i: EvidenceLedger, state) => {
      const sql = state.storage.sql;
      for (const table of ["ledger_schema", "counters", "main_traffic", "mains"])
        sql.exec(`DROP TABLE IF EXISTS ${table}`);
      // Layout 2: counters per (version, minute), whichever main they were compared with.
      sql.exec("CREATE TABLE ledger_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
      sql.exec("INSERT INTO ledger_schema VALUES (1, 2)");
      sql.exec(`CREATE TABLE counters (version TEXT NOT NULL, minute INTEGER NOT NULL,
        mirrored INTEGER NOT NULL, compared INTEGER NOT NULL, not_compared INTEGER NOT NULL,
        errors_shadow INTEGER NOT NULL, down INTEGER NOT NULL, skipped INTEGER NOT NULL, unrecorded INTEGER NOT NULL,
        errors_main INTEGER NOT NULL, latency_main TEXT NOT NULL, latency_shadow TEXT NOT NULL,
        PRIMARY KEY (version, minute))`);
      sql.exec("INSERT INTO counters VALUES ('2.0.0', ?, 7, 7, 0, 0, 0, 0, 0, 0, '{}', '{}')", NOW / MINUTE);
      prepareSchema(state.storage);
      const tables = sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .toArray()
        .map((t) => t.name);
      const rows = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM counters").one().n;
      return { tables, rows };
    });
    spy.mockRestore();
    expect(after.tables).toEqual(expect.arrayContaining(["counters", "main_traffic", "mains"]));
    expect(after.rows).toBe(0);
    expect(logs.map((line) => JSON.parse(line))).toEqual([{ event: "ledger_reset", from: 2, to: 8 }]);
    // The reset ledger takes and reads evidence as a fresh one does.
    const ledger = env.EVIDENCE_LEDGER.getByName(name);
    await ledger.record({ shadows: [counts("2.0.0", NOW)], noise: [], samples: [], dropped: 0 });
    expect((await ledger.report(hour(name))).shadows[0]?.requests.compared).toBe(10);
  });

  it("drops the batch-count table a gateway of this layout once kept, and keeps the evidence", async () => {
    const { name, ledger } = ledgerFor("retired");
    await ledger.record({ shadows: [counts("2.0.0", NOW)], noise: [], samples: [], dropped: 0 });
    const tables = await runInDurableObject(ledger, (_i: EvidenceLedger, state) => {
      const sql = state.storage.sql;
      // As a gateway that counted batches in its ledgers (LEDGER_COUNT_WRITES) left it.
      sql.exec("CREATE TABLE writes (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL)");
      sql.exec("INSERT INTO writes VALUES (1, 3)");
      prepareSchema(state.storage);
      return sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .toArray()
        .map((t) => t.name);
    });
    expect(tables).not.toContain("writes");
    expect(tables).toContain("counters");
    expect((await ledger.report(hour(name))).shadows[0]?.requests.compared).toBe(10);
  });

  it("reads a long window once per minute (the dashboard refreshes every 5 s), a short one every time", async () => {
    const { name } = ledgerFor("cached");
    const stub = env.EVIDENCE_LEDGER.getByName(name);
    await stub.record({ shadows: [counts("2.0.0", NOW)], noise: [], samples: [], dropped: 0 });
    const reads = await runInDurableObject(stub, async (instance: EvidenceLedger, state) => {
      const exec = vi.spyOn(state.storage.sql, "exec");
      const queries = async (read: () => Promise<unknown>) => {
        const before = exec.mock.calls.length;
        await read();
        return exec.mock.calls.length - before;
      };
      const week = hour(name, { from: NOW + MINUTE - 7 * 24 * 60 * MINUTE });
      const ignoring = { ...week, policy: { ignore: ["body.a"] } };
      const result = {
        weekFirst: await queries(() => instance.reportWithSeries(week)),
        weekAgain: await queries(() => instance.reportWithSeries(week)),
        weekOtherPolicy: await queries(() => instance.reportWithSeries(ignoring)),
        hourFirst: await queries(() => instance.report(hour(name))),
        hourAgain: await queries(() => instance.report(hour(name))),
      };
      await instance.forget("3.0.0");
      return { ...result, weekAfterForget: await queries(() => instance.reportWithSeries(week)) };
    });
    expect(reads.weekFirst).toBeGreaterThan(0);
    expect(reads.weekAgain).toBe(0);
    expect(reads.weekOtherPolicy).toBeGreaterThan(0);
    expect(reads.hourFirst).toBeGreaterThan(0);
    expect(reads.hourAgain).toBe(reads.hourFirst);
    expect(reads.weekAfterForget).toBeGreaterThan(0);
  });
});

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { readConfig } from "../../src/config.ts";
import type { Env } from "../../src/env.ts";
import type { EvidenceBatch, ExchangeSample } from "../../src/evidence/batch.ts";
import { evidenceFor } from "../../src/evidence/collection.ts";
import type { EvidenceLedger } from "../../src/evidence/ledger/index.ts";
import { recordInShard, ShardNotes, shardName, shardOf } from "../../src/evidence/shards.ts";
import type { EvidenceReport } from "../../src/evidence/verdict.ts";
import { deploy, GATEWAY, uniqueName, withVars } from "./proxy-helpers.ts";

const origins = inject("origins");
const AUTH = { authorization: "Bearer test-token" };

/** Four isolates' random slots: with 4 shards they write to shards 0, 1, 2 and 3. */
const ISOLATES = [0.1, 0.3, 0.6, 0.9];

async function lab(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await deploy(name, "1.0.0", origins.labMain);
  await deploy(name, "2.0.0", origins.labShadow);
  return name;
}

/** Sends the batches of `name` the proxy holds, with these variables, now. */
function flushWith(vars: Record<string, unknown>, name: string): Promise<void> {
  const withVarsEnv = { ...env, ...vars } as Env;
  return evidenceFor(withVarsEnv, readConfig(withVarsEnv)).batcher.flush(name);
}

/** A ledger binding that keeps every batch the proxy sends in `batches`, and stores none. */
const capturing = (batches: EvidenceBatch[]) => ({
  getByName: () => ({
    noteShards: async () => undefined,
    record: async (batch: EvidenceBatch) => {
      batches.push(batch);
    },
  }),
});

/** Sends GETs of /field numbered `ids` through the real proxy; resolves with the batches it sent. */
async function batchesOf(name: string, ids: number[], vars: Record<string, unknown>): Promise<EvidenceBatch[]> {
  const batches: EvidenceBatch[] = [];
  const withCapture: Record<string, unknown> = { ...vars, EVIDENCE_LEDGER: capturing(batches) };
  const sent = await Promise.all(
    ids.map(async (n) => {
      const { response, settled } = await withVars(
        withCapture,
        new Request(`${GATEWAY}/services/${name}/field`, { headers: { "x-request-id": `${name}-${n}` } }),
      );
      await response.arrayBuffer();
      return settled;
    }),
  );
  // Every copy compared and every batch timer run: the batches are all here.
  await Promise.all(sent.map((settled) => settled()));
  await flushWith(withCapture, name);
  return batches;
}

/**
 * Sends `count` GETs of /field through the real proxy, spread over the simulated isolates: the
 * batches the proxy makes for each isolate's share are written as that isolate would write them,
 * from its slot (the gateway's own writer, given the slot this one isolate cannot choose).
 * Resolves with every batch, in the order written.
 */
async function sendThroughIsolates(name: string, count: number, vars: Record<string, unknown>) {
  const perIsolate = Math.ceil(count / ISOLATES.length);
  const written: EvidenceBatch[] = [];
  for (const [i, slot] of ISOLATES.entries()) {
    const ids = Array.from({ length: perIsolate }, (_, k) => i * perIsolate + k).filter((n) => n < count);
    const writer = { ledgers: env.EVIDENCE_LEDGER, shards: 4, slot, notes: new ShardNotes() };
    for (const batch of await batchesOf(name, ids, vars)) {
      await recordInShard(writer, name, batch);
      written.push(batch);
    }
  }
  return written;
}

async function api<T>(path: string, shards: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const { response } = await withVars(
    { LEDGER_SHARDS: shards },
    new Request(`${GATEWAY}/api/v1${path}`, { ...init, headers: { ...AUTH, ...init.headers } }),
  );
  return { status: response.status, body: (await response.json()) as T };
}

/** Rows of evidence one shard holds, every table counted. */
function rowsIn(objectName: string): Promise<number> {
  return runInDurableObject(env.EVIDENCE_LEDGER.getByName(objectName), (_: EvidenceLedger, state) => {
    const sql = state.storage.sql;
    const tables = sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('counters', 'samples')")
      .toArray();
    return tables.reduce(
      (sum, { name }) => sum + sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${name}`).one().n,
      0,
    );
  });
}

/** What a report says, without what names it (the window and the name differ between two runs). */
const evidenceOf = (report: EvidenceReport) => ({ shadows: report.shadows, noise: report.noise });

beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("LEDGER_SHARDS", { timeout: 60_000 }, () => {
  it("gives the same report with 4 shards as one ledger taking the same batches, through the real proxy", async () => {
    const name = await lab("shards");
    const reference = uniqueName("reference");
    const real = env.EVIDENCE_LEDGER;
    // Every batch written to a shard is also given, whole, to one unsharded ledger.
    for (const batch of await sendThroughIsolates(name, 120, { LEDGER_SHARDS: "4" })) {
      await real.getByName(reference).record(batch);
    }

    for (let k = 0; k < 4; k++) expect(await rowsIn(shardName(name, k)), `shard ${k}`).toBeGreaterThan(0);
    const sharded = (await api<EvidenceReport>(`/services/${name}/report?window=1h`, "4")).body;
    const to = Date.now();
    const single = await real.getByName(reference).report({
      name: reference,
      from: to - 3_600_000,
      to,
      main: "1.0.0",
      shadows: ["2.0.0"],
    });
    expect(sharded.shadows[0]?.requests).toMatchObject({ mirrored: 120, compared: 120, different: 12 });
    expect(evidenceOf(sharded)).toEqual(evidenceOf(single));
    // Main's own traffic, and since when 1.0.0 is the baseline, read across the shards too.
    expect(sharded.mainTraffic.requests).toBe(120);
    expect(sharded.mainTraffic).toEqual(single.mainTraffic);
    expect(sharded.baseline).toEqual(single.baseline);

    // The series adds up the same way.
    const series = (
      await api<EvidenceReport & { series: unknown }>(`/services/${name}/report?window=1h&series=true`, "4")
    ).body;
    const singleSeries = await real.getByName(reference).reportWithSeries({
      name: reference,
      from: to - 3_600_000,
      to,
      main: "1.0.0",
      shadows: ["2.0.0"],
    });
    expect(series.series).toEqual(singleSeries.series);
  });

  it("finds an older baseline whose evidence is on another shard than shard 0, after a promotion", async () => {
    const name = await lab("baseline");
    // One isolate, writing to shard 3 only: shard 0 holds none of 1.0.0's evidence.
    const writer = { ledgers: env.EVIDENCE_LEDGER, shards: 4, slot: 0.9, notes: new ShardNotes() };
    for (const batch of await batchesOf(name, [0], { LEDGER_SHARDS: "4" })) await recordInShard(writer, name, batch);
    expect(await rowsIn(shardName(name, 3))).toBeGreaterThan(0);
    expect(await rowsIn(name)).toBe(0);

    const assigned = await api(`/services/${name}/main`, "4", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ version: "2.0.0", force: true }),
    });
    expect(assigned.status).toBe(200);
    const current = await api<EvidenceReport>(`/services/${name}/report?window=1h`, "4");
    expect(current.body.baseline.main).toBe("2.0.0");
    expect(current.body.mainTraffic.requests).toBe(0);

    const old = await api<EvidenceReport>(`/services/${name}/report?window=1h&baseline=1.0.0`, "4");
    expect(old.status).toBe(200);
    expect(old.body.baseline).toMatchObject({ main: "1.0.0", until: current.body.baseline.since });
    expect(old.body.shadows.map((shadow) => [shadow.version, shadow.requests.mirrored])).toEqual([["2.0.0", 1]]);
    expect(old.body.mainTraffic.requests).toBe(1);
  });

  it("exports metrics that count every shard's copies", async () => {
    const name = await lab("metrics");
    await sendThroughIsolates(name, 40, { LEDGER_SHARDS: "4" });
    const { response } = await withVars(
      { LEDGER_SHARDS: "4" },
      new Request(`${GATEWAY}/api/v1/metrics`, { headers: AUTH }),
    );
    const text = await response.text();
    const copies = text
      .split("\n")
      .filter((line) => line.startsWith(`daeploy_copies_total{service="${name}",version="2.0.0",`))
      .map((line) => Number(line.slice(line.lastIndexOf(" ") + 1)));
    expect(copies.length).toBeGreaterThan(0);
    expect(copies.reduce((sum, n) => sum + n, 0)).toBe(40);
  });

  it("answers diffs with the newest samples of every shard", async () => {
    const name = await lab("diffs");
    await sendThroughIsolates(name, 200, { LEDGER_SHARDS: "4" });
    const perShard = await Promise.all(
      [0, 1, 2, 3].map((k) => env.EVIDENCE_LEDGER.getByName(shardName(name, k)).diffs("2.0.0", { limit: 100 })),
    );
    const everySample = perShard.flatMap((part) => part.samples);
    const newest = [...everySample].sort((a, b) => Date.parse(b.at) - Date.parse(a.at)).slice(0, 10);
    expect(Math.max(...perShard.map((part) => part.samples.length))).toBeLessThan(everySample.length);

    const { body } = await api<{ samples: ExchangeSample[] }>(`/services/${name}/2.0.0/diffs?limit=10`, "4");
    expect(body.samples.map((s) => s.requestId)).toEqual(newest.map((s) => s.requestId));
    expect(body.samples.length).toBe(Math.min(10, everySample.length));
  });

  it("keeps the evidence of 4 shards in the report after LEDGER_SHARDS drops to 2", async () => {
    const name = await lab("shrink");
    await sendThroughIsolates(name, 80, { LEDGER_SHARDS: "4" });
    expect(await rowsIn(shardName(name, 3))).toBeGreaterThan(0);
    const { body } = await api<EvidenceReport>(`/services/${name}/report?window=1h`, "2");
    expect(body.shadows[0]?.requests).toMatchObject({ mirrored: 80, compared: 80, different: 8 });
  });

  it("empties every shard when the name is killed, and a redeploy starts from zero", async () => {
    const name = await lab("kill");
    await sendThroughIsolates(name, 40, { LEDGER_SHARDS: "4" });
    for (let k = 0; k < 4; k++) expect(await rowsIn(shardName(name, k)), `shard ${k}`).toBeGreaterThan(0);

    const killed = await api(`/services/${name}`, "4", { method: "DELETE" });
    expect(killed.status).toBe(200);
    for (let k = 0; k < 4; k++) expect(await rowsIn(shardName(name, k)), `shard ${k}`).toBe(0);

    await deploy(name, "1.0.0", origins.labMain);
    await deploy(name, "2.0.0", origins.labShadow);
    const { body } = await api<EvidenceReport>(`/services/${name}/report?window=1h`, "4");
    expect(body.shadows[0]?.requests).toMatchObject({ mirrored: 0, compared: 0 });
  });

  it("has each isolate write all its batches for a name to one shard, which reads find after LEDGER_SHARDS drops to 1", async () => {
    const name = await lab("oneshard");
    for (const from of [0, 10]) {
      const sent = await Promise.all(
        [...Array(10).keys()].map(async (k) => {
          const { response, settled } = await withVars(
            { LEDGER_SHARDS: "4" },
            new Request(`${GATEWAY}/services/${name}/field`, { headers: { "x-request-id": `${name}-${from + k}` } }),
          );
          await response.arrayBuffer();
          return settled;
        }),
      );
      await Promise.all(sent.map((settled) => settled()));
      await flushWith({ LEDGER_SHARDS: "4" }, name);
    }
    const rows = await Promise.all([0, 1, 2, 3].map((k) => rowsIn(shardName(name, k))));
    expect(rows.filter((n) => n > 0)).toHaveLength(1);
    // Shard 0 was told which shard holds it: a reader that knows of one shard still finds every copy.
    const { body } = await api<EvidenceReport>(`/services/${name}/report?window=1h`, "1");
    expect(body.shadows[0]?.requests).toMatchObject({ mirrored: 20, compared: 20 });
  });

  it("spreads isolates' slots evenly over the shards, and keeps one ledger for one shard", () => {
    expect([0, 0.24, 0.25, 0.49, 0.5, 0.74, 0.75, 0.99].map((slot) => shardOf(4, slot))).toEqual([
      0, 0, 1, 1, 2, 2, 3, 3,
    ]);
    expect(shardOf(4, 0.9999999999)).toBe(3);
    expect(ISOLATES.map((slot) => shardOf(4, slot))).toEqual([0, 1, 2, 3]);
    expect([0, 0.5, 0.9999].map((slot) => shardOf(1, slot))).toEqual([0, 0, 0]);
  });

  it("refuses a shard count outside 1–32 with a warning, and keeps one ledger", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const name = await lab("badshards");
    // Out of 64 shards, this isolate's random slot would be shard 0's only once in 64.
    const { response, settled } = await withVars(
      { LEDGER_SHARDS: "64" },
      new Request(`${GATEWAY}/services/${name}/field`, { headers: { "x-request-id": `${name}-0` } }),
    );
    await response.arrayBuffer();
    await settled();
    await flushWith({ LEDGER_SHARDS: "64" }, name);
    expect(warn.mock.calls.map(([line]) => JSON.parse(String(line)))).toContainEqual(
      expect.objectContaining({ event: "config_invalid", variable: "LEDGER_SHARDS", value: "64" }),
    );
    expect(await rowsIn(name)).toBeGreaterThan(0);
  });
});

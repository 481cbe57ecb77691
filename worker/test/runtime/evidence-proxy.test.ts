import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { PolicyOverrides, ShadowReport } from "../../src/evidence/verdict.ts";
import { gatewayWithOwnCollection } from "./own-collection.ts";
import { deploy, GATEWAY, gateway, uniqueName, waitForSeen, withVars } from "./proxy-helpers.ts";

const origins = inject("origins");

/** A name whose main is the lab's main side and whose 2.0.0 is its shadow side. */
async function lab(prefix: string, policy?: PolicyOverrides): Promise<string> {
  const name = uniqueName(prefix);
  await deploy(name, "1.0.0", origins.labMain);
  await deploy(name, "2.0.0", origins.labShadow);
  if (policy) {
    await env.DB.prepare("INSERT INTO policies (name, policy, updated_at) VALUES (?, ?, ?)")
      .bind(name, JSON.stringify(policy), Date.now())
      .run();
  }
  return name;
}

/** GETs `path` with ids `<name>-0` … `<name>-<count-1>`, ten at a time, `through` the gateway, and reads every answer whole. */
async function sendMany(name: string, path: string, count: number, through = gateway): Promise<void> {
  for (let start = 0; start < count; start += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, count - start) }, async (_, k) => {
        const response = await through(`/services/${name}${path}`, {
          headers: { "x-request-id": `${name}-${start + k}` },
        });
        await response.arrayBuffer();
      }),
    );
  }
}

const ledgerOf = (name: string) => env.EVIDENCE_LEDGER.getByName(name);

/** The ledger's report over the last hour, once it holds `expected` requests of 2.0.0 (batches land within a second or so). */
async function reportOf(name: string, expected: number, policy?: PolicyOverrides) {
  const deadline = Date.now() + 6_000;
  for (;;) {
    const report = await ledgerOf(name).report({
      name,
      from: Date.now() - 3_600_000,
      to: Date.now() + 60_000,
      main: "1.0.0",
      shadows: ["2.0.0"],
      policy,
    });
    const shadow = report.shadows[0] as ShadowReport;
    if (shadow.requests.mirrored + shadow.requests.skipped >= expected || Date.now() > deadline) {
      return { report, shadow };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Rows of evidence the name's ledger holds, over all its tables. */
function ledgerRows(name: string): Promise<number> {
  return runInDurableObject(ledgerOf(name), (_, state) => {
    const sql = state.storage.sql;
    const tables = sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT GLOB '_cf_*' AND name NOT GLOB 'sqlite_*' AND name <> 'ledger_schema'",
      )
      .toArray();
    return tables.reduce(
      (sum, { name }) => sum + sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${name}`).one().n,
      0,
    );
  });
}

beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("comparison", () => {
  it("finds a JSON field the shadow changes on 10 % of requests, with samples of both bodies", async () => {
    const name = await lab("field");
    await sendMany(name, "/field", 100);
    const { shadow } = await reportOf(name, 100);
    expect(shadow.requests).toMatchObject({ mirrored: 100, compared: 100, different: 10, same: 90, notCompared: 0 });
    expect(shadow.fields).toEqual([
      { path: "body.price", kind: "value", count: 10, rate: 0.1, noiseRate: 0, ignored: false, counts: true },
    ]);
    expect(shadow.verdict).toBe("fail");

    const { samples } = await ledgerOf(name).diffs("2.0.0", { path: "body.price" });
    expect(samples.length).toBeGreaterThan(0);
    for (const sample of samples) {
      expect(sample.paths).toEqual(["body.price"]);
      expect(sample.url).toBe(`/services/${name}/field`);
      expect(JSON.parse(sample.main.body)).toMatchObject({ price: 1 });
      expect(JSON.parse(sample.shadow.body)).toMatchObject({ price: 2 });
      expect(Number(sample.requestId.split("-").at(-1)) % 10).toBe(0);
    }
  });

  it("learns a time field that differs on every call as noise: it does not count, and the difference rule passes", async () => {
    // 120 clean requests clear a 5 % difference limit at any look; a p99 band needs several hundred more.
    const gate = { maxDiffRate: 0.05, maxErrorRateIncrease: 0.05 };
    const name = await lab("noise", { noisePercent: 50 });
    await sendMany(name, "/time", 120);
    const { report, shadow } = await reportOf(name, 120, { gate });
    expect(report.noise.sampled).toBeGreaterThan(30);
    expect(report.noise.fields).toEqual([{ route: "GET /time", path: "body.time", kind: "value", rate: 1 }]);
    expect(shadow.fields).toEqual([
      { path: "body.time", kind: "value", count: 120, rate: 1, noiseRate: 1, ignored: false, counts: false },
    ]);
    expect(shadow.requests.different).toBe(0);
    expect(shadow.confidence.diffRate?.high).toBeLessThan(0.05);
    expect(shadow.verdict).not.toBe("fail");
    expect(shadow.reasons.join(" ")).not.toContain("compared requests differ");
  });

  it("sends the noise copy to main itself, marked as a shadow copy", async () => {
    const name = await lab("twin", { noisePercent: 100 });
    const id = `${name}-twin`;
    const response = await gateway(`/services/${name}/same`, { headers: { "x-request-id": id } });
    await response.arrayBuffer();
    const seen = await waitForSeen(origins.labMain, id, 2);
    expect(seen).toHaveLength(2);
    expect(seen.map((r) => r.headers["x-daeploy-shadow"] ?? null).sort()).toEqual(["1", null]);
    expect(seen.find((r) => r.headers["x-daeploy-shadow"])?.headers["x-daeploy-shadow-proof"]).toMatch(
      /^\d+\.[0-9a-f]{64}$/,
    );
  });

  it("shows a shadow 50 ms slower in its p50 and p99, measured on the same requests as main", async () => {
    const name = await lab("slow");
    await sendMany(name, "/slow", 40);
    const { shadow } = await reportOf(name, 40);
    expect(shadow.latencyMs.shadow.p50 - shadow.latencyMs.main.p50).toBeGreaterThanOrEqual(40);
    expect(shadow.latencyMs.shadow.p99).toBeGreaterThanOrEqual(48);
    expect(shadow.requests.different).toBe(0);
  });

  it("counts a shadow's 500s on 5 % of requests against main's error rate", async () => {
    const name = await lab("errors");
    await sendMany(name, "/error", 100);
    const { shadow } = await reportOf(name, 100);
    expect(shadow.errors).toEqual({ main: 0, shadow: 5 });
    // An error is one outcome, not also the differences its 500 shows.
    expect(shadow.requests).toMatchObject({ mirrored: 100, error: 5, compared: 95, same: 95, different: 0 });
    expect(shadow.fields).toEqual([]);
    // 5 in 100 is not yet clearly more than 1 point over main at any look: it cannot pass, and says so.
    expect(shadow.verdict).toBe("inconclusive");
    expect(shadow.reasons.join(" ")).toContain("shadow error rate 5% (5 errors, 0 down, of 100) against main's 0%");
    expect(shadow.confidence.errorIncrease.high).toBeGreaterThan(0.05);
  });

  it("compares non-JSON bodies byte for byte, and the policy's headers", async () => {
    const name = await lab("bytes", { headers: ["x-lab"] });
    await sendMany(name, "/text", 20);
    const { shadow } = await reportOf(name, 20);
    expect(shadow.fields).toEqual([
      expect.objectContaining({ path: "body", kind: "value", count: 10 }),
      // The text answer sets no x-lab on either side; only /same-style JSON answers carry it.
    ]);
    await sendMany(name, "/same", 10);
    const after = await reportOf(name, 30);
    expect(after.shadow.fields).toContainEqual(
      expect.objectContaining({ path: "header.x-lab", kind: "value", count: 10 }),
    );
  });

  it("compares bodies over the cap by their digest, and event streams event by event", async () => {
    const name = await lab("overcap");
    const paths = [
      "/big?bytes=300000",
      "/big?bytes=300000&chunked=1",
      "/big?bytes=100000&chunked=1",
      "/big?bytes=100000",
    ];
    for (const path of paths) {
      const response = await gateway(`/services/${name}${path}`, { headers: { "x-request-id": `${name}-${path}` } });
      const bytes = new URL(path, GATEWAY).searchParams.get("bytes");
      // The tee keeps a declared length for the client.
      if (!path.includes("chunked")) expect(response.headers.get("content-length")).toBe(bytes);
      // The client still gets every byte.
      expect((await response.text()).length).toBe(Number(bytes));
    }
    const { shadow } = await reportOf(name, 4);
    expect(shadow.requests).toMatchObject({ mirrored: 4, compared: 4, notCompared: 0, different: 0 });

    const sse = uniqueName("ssecompare");
    await deploy(sse, "1.0.0", origins.sse);
    await deploy(sse, "2.0.0", origins.labShadow);
    const id = `${sse}-stream`;
    const response = await gateway(`/services/${sse}/events`, { headers: { "x-request-id": id } });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    await fetch(`${origins.sse}/__release?id=${id}`);
    expect(await response.text()).toBe("data: first\n\ndata: second\n\n");
    // A stream against a JSON answer: another content-type, and its events where the JSON has other fields.
    const streamed = await reportOf(sse, 1);
    expect(streamed.shadow.requests).toMatchObject({ mirrored: 1, compared: 1, different: 1, notCompared: 0 });
    expect(streamed.shadow.fields.map((f) => `${f.path} ${f.kind}`).sort()).toEqual([
      "body.events missing",
      "body.id extra",
      "header.content-type value",
    ]);
    // Over a megabyte through the gateway and two origins: more than the default 5 s on a loaded 2-core machine.
  }, 20_000);

  it("lets a client hang up mid-download: main and the shadow are let go, and the next request is served", async () => {
    const name = await lab("hangup");
    const id = `${name}-hangup`;
    const response = await gateway(`/services/${name}/download?bytes=8388608`, { headers: { "x-request-id": id } });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await reader.cancel();
    const deadline = Date.now() + 3_000;
    let closed: string[] = [];
    while (Date.now() < deadline) {
      closed = await (await fetch(`${origins.labMain}/__closed-early`)).json();
      if (closed.includes(id)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(closed).toContain(id);
    const shadowClosed: string[] = await (await fetch(`${origins.labShadow}/__closed-early`)).json();
    expect(shadowClosed).toContain(id);

    const next = await gateway(`/services/${name}/same`, { headers: { "x-request-id": `${name}-next` } });
    expect(await next.json()).toEqual({ id: 0 });
    const { shadow } = await reportOf(name, 2);
    expect(shadow.requests).toMatchObject({ mirrored: 2, compared: 1, notCompared: 1 });
  });

  it("stops reading main's compared branch at SHADOW_TIMEOUT_MS, while its client still gets every byte", async () => {
    const name = await lab("trickle");
    const answer = async (id: string, ms: number) => {
      const request = new Request(`${GATEWAY}/services/${name}/trickle?ms=${ms}`, { headers: { "x-request-id": id } });
      const { response, settled } = await withVars({ SHADOW_TIMEOUT_MS: "400" }, request);
      expect(response.headers.get("content-length")).not.toBeNull();
      expect((await response.json()) as object).toMatchObject({ pad: "t".repeat(2000) });
      await settled();
    };
    // Main's body of declared length within the cap, whole within the limit: compared.
    await answer(`${name}-1`, 0);
    // Its second half 1.5 s late: the client waits for it, the comparison does not.
    await answer(`${name}-2`, 1_500);
    const { shadow } = await reportOf(name, 2);
    expect(shadow.requests).toMatchObject({ mirrored: 2, compared: 1, notCompared: 1 });
  });

  it("batches: many requests make few ledger writes", async () => {
    const name = await lab("batch");
    const own = gatewayWithOwnCollection();
    const started = Date.now();
    await sendMany(name, "/same", 200, own.fetch);
    const seconds = (Date.now() - started) / 1000;
    const batches = await own.batches();
    const { shadow } = await reportOf(name, 200);
    expect(shadow.requests.mirrored).toBe(200);
    // One write per second per isolate, at most, plus the batch still open when the loop ended.
    expect(batches.failed).toBe(0);
    expect(batches.sent).toBeGreaterThan(0);
    expect(batches.sent).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
  });

  it("past COMPARE_MEMORY_BYTES mirrors without comparing, and counts it", async () => {
    const name = await lab("memory");
    const id = `${name}-1`;
    const request = new Request(`${GATEWAY}/services/${name}/field`, { headers: { "x-request-id": id } });
    const { response, settled } = await withVars({ COMPARE_MEMORY_BYTES: "8" }, request);
    expect(await response.json()).toEqual({ id: 1, name: "widget", price: 1 });
    await settled();
    expect(await waitForSeen(origins.labShadow, id)).toHaveLength(1);
    const { shadow } = await reportOf(name, 1);
    expect(shadow.requests).toMatchObject({ mirrored: 1, compared: 0, notCompared: 1, skipped: 0 });
  });

  it("a slow shadow holds only main's comparison memory, not the other copies'", async () => {
    // Main and the fast shadow answer 1,000 bytes each; 3.0.0 answers after 3 s. The bound (3,001 bytes)
    // holds main's and the fast copy's bodies of two requests at once only if the first request's fast
    // copy gave its memory back when it was compared, while its slow copy was still out.
    const name = await lab("slowmemory", { noisePercent: 0 });
    await deploy(name, "3.0.0", origins.slow);
    const vars = { COMPARE_MEMORY_BYTES: "3001" };
    const send = async (i: number) => {
      const id = `${name}-${i}`;
      const request = new Request(`${GATEWAY}/services/${name}/big?bytes=1000`, { headers: { "x-request-id": id } });
      const { response, settled } = await withVars(vars, request);
      expect((await response.text()).length).toBe(1000);
      expect(await waitForSeen(origins.labShadow, id)).toHaveLength(1);
      return settled;
    };
    const first = await send(0);
    // The first request's fast copy has been answered and compared; its slow copy is still out.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await send(1);
    await Promise.all([first(), second()]);
    const { shadow } = await reportOf(name, 2);
    expect(shadow.requests).toMatchObject({ mirrored: 2, compared: 2, notCompared: 0 });
  });

  it("with COMPARE_RESPONSES off, mirrors as before and records nothing", async () => {
    const name = await lab("off");
    for (let i = 0; i < 5; i++) {
      const request = new Request(`${GATEWAY}/services/${name}/field`, { headers: { "x-request-id": `${name}-${i}` } });
      const { response, settled } = await withVars({ COMPARE_RESPONSES: "off" }, request);
      expect(await response.json()).toMatchObject({ id: i, price: 1 });
      await settled();
      expect(await waitForSeen(origins.labShadow, `${name}-${i}`)).toHaveLength(1);
    }
    expect(await ledgerRows(name)).toBe(0);
  });
});

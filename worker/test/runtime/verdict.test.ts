import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { AssignResult } from "../../src/coordinator/results.ts";
import { SAMPLE_WINDOW_MS } from "../../src/evidence/batch.ts";
import type { EvidenceLedger } from "../../src/evidence/ledger/index.ts";
import type { EvidenceReport, PolicyOverrides, ShadowReport } from "../../src/evidence/verdict.ts";
import { api } from "./admin-client.ts";
import { deploy, GATEWAY, gateway, uniqueName, withVars } from "./proxy-helpers.ts";

// Must-show cases of the verdict, through real origins and the real runtime: every copy has one
// outcome, dead and hanging shadows fail, noise is per kind, paths stay bounded, samples stay fresh.

const origins = inject("origins");
const ledgerOf = (name: string) => env.EVIDENCE_LEDGER.getByName(name);

/** A name with main 1.0.0 at `main` and shadow 2.0.0 at `shadow`, with a policy set through the API. */
async function named(prefix: string, main: string, shadow: string, policy?: PolicyOverrides): Promise<string> {
  const name = uniqueName(prefix);
  await deploy(name, "1.0.0", main);
  await deploy(name, "2.0.0", shadow);
  if (policy) {
    const res = await api("PUT", `/services/${name}/policy`, { body: policy });
    expect(res.status).toBe(200);
  }
  return name;
}

/** Marks a version's health as the cron's probe would. */
const markStatus = (name: string, version: string, status: "running" | "unreachable") =>
  env.DB.prepare("UPDATE services SET status = ? WHERE name = ? AND version = ?").bind(status, name, version).run();

/** GETs `path` with ids `<name>-<from>` … ten at a time, reading every answer whole. */
async function send(name: string, path: string, count: number, from = 0): Promise<void> {
  for (let start = from; start < from + count; start += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, from + count - start) }, async (_, k) => {
        const response = await gateway(`/services/${name}${path}`, {
          headers: { "x-request-id": `${name}-${start + k}` },
        });
        await response.arrayBuffer();
      }),
    );
  }
}

/** The name's report over the last hour (the API's, with its stored policy), once 2.0.0 has `expected` copies counted. */
async function reportOf(name: string, expected: number): Promise<EvidenceReport> {
  const deadline = Date.now() + 8_000;
  for (;;) {
    const { body: report } = await api<EvidenceReport>("GET", `/services/${name}/report`);
    const { mirrored, down, skipped } = (report.shadows[0] as ShadowReport).requests;
    if (mirrored + down + skipped >= expected || Date.now() > deadline) return report;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const shadowOf = async (name: string, expected: number) => (await reportOf(name, expected)).shadows[0] as ShadowReport;

const assign = (name: string) => api<AssignResult>("PUT", `/services/${name}/main`, { body: { version: "2.0.0" } });

/** The one-outcome rule: every sent copy is same, different, error or notCompared. */
function expectOneOutcomeEach(shadow: ShadowReport): void {
  const { mirrored, same, different, error, notCompared, compared } = shadow.requests;
  expect(same + different + error + notCompared).toBe(mirrored);
  expect(same + different).toBe(compared);
}

beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("dead, paused and unreachable shadows fail", () => {
  it("a shadow registered as running whose origin is dead: errors, then down while paused; fail, and assign is refused", async () => {
    const name = await named("dies", origins.v1, origins.dead, { gate: { minRequests: 30 } });
    await markStatus(name, "2.0.0", "running");
    await send(name, "/", 40);
    const shadow = await shadowOf(name, 40);
    expectOneOutcomeEach(shadow);
    expect(shadow.requests.error).toBeGreaterThanOrEqual(5);
    // Paused after five failures in a row: the rest were never sent, and count as down.
    expect(shadow.requests.down).toBeGreaterThan(0);
    expect(shadow.requests.error + shadow.requests.down).toBe(40);
    expect(shadow.requests.skipped).toBe(0);
    expect(shadow.verdict).toBe("fail");
    expect(shadow.confidence.errorRate.rate).toBe(1);

    const res = await assign(name);
    expect(res.status).toBe(409);
    expect(res.body.error?.code).toBe("gate_failed");
    expect(res.body.error?.reasons?.[0]).toMatch(/^shadow error rate 100% \(\d+ errors, \d+ down, of 40\)/);
  });

  it("a shadow marked unreachable for the whole window: every copy is down; fail, and assign is refused", async () => {
    const name = await named("unreach", origins.v1, origins.v2, { gate: { minRequests: 30 } });
    await markStatus(name, "2.0.0", "unreachable");
    await send(name, "/", 40);
    const shadow = await shadowOf(name, 40);
    expect(shadow.requests).toMatchObject({ mirrored: 0, down: 40, skipped: 0, compared: 0 });
    expect(shadow.verdict).toBe("fail");
    expect((await assign(name)).status).toBe(409);
  });

  it("an unreachable shadow that the traffic controls would not have selected is skipped, not down", async () => {
    const name = await named("unreachpost", origins.v1, origins.v2);
    await api("PATCH", `/services/${name}/2.0.0`, { body: { mirrorMethods: ["POST"] } });
    await markStatus(name, "2.0.0", "unreachable");
    await send(name, "/", 10);
    const shadow = await shadowOf(name, 10);
    expect(shadow.requests).toMatchObject({ down: 0, skipped: 10 });
  });

  it("a shadow that never answers: its timeouts fail it, and its p99 is at least the timeout", async () => {
    const name = await named("hangs", origins.v1, origins.slow, { gate: { minRequests: 20 } });
    const timeoutMs = 300;
    for (let start = 0; start < 30; start += 10) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, k) => {
          const request = new Request(`${GATEWAY}/services/${name}/`, {
            headers: { "x-request-id": `${name}-${start + k}` },
          });
          const { response, settled } = await withVars({ SHADOW_TIMEOUT_MS: String(timeoutMs) }, request);
          await response.arrayBuffer();
          await settled();
        }),
      );
    }
    const shadow = await shadowOf(name, 30);
    expectOneOutcomeEach(shadow);
    expect(shadow.requests.error).toBeGreaterThanOrEqual(5);
    expect(shadow.requests.error + shadow.requests.down).toBe(30);
    expect(shadow.latencyMs.shadow.p99).toBeGreaterThanOrEqual(timeoutMs);
    expect(shadow.verdict).toBe("fail");
  }, 20_000);
});

describe("a failure is a failure wherever it happens", () => {
  it("a shadow that resets 25 % of its connections after the headers, mid-body, fails on those errors", async () => {
    const name = await named("midbody", origins.labMain, origins.labShadow);
    await send(name, "/mid-body-reset", 120);
    const shadow = await shadowOf(name, 120);
    expectOneOutcomeEach(shadow);
    // Ids 0…119: every fourth shadow answer broke off after its headers.
    expect(shadow.requests).toMatchObject({ mirrored: 120, error: 30, same: 90, notCompared: 0 });
    // Each broken copy is timed where it broke, beside main's time on the same request.
    expect(shadow.confidence.latencySamples).toBe(120);
    expect(shadow.verdict).toBe("fail");
    expect(shadow.reasons[0]).toMatch(/^shadow error rate 25% \(30 errors, 0 down, of 120\) against main's 0%/);
  }, 30_000);
});

describe("what counts as a difference", () => {
  it("main's value noise on a field does not excuse the shadow dropping it or changing its type", async () => {
    const name = await named("kinds", origins.labMain, origins.labShadow, { noisePercent: 100 });
    await send(name, "/time-kinds", 100);
    const report = await reportOf(name, 100);
    expect(report.noise.fields).toEqual([{ route: "GET /time-kinds", path: "body.time", kind: "value", rate: 1 }]);
    const shadow = report.shadows[0] as ShadowReport;
    const byKind = Object.fromEntries(shadow.fields.map((f) => [f.kind, [f.path, f.count, f.counts]]));
    expect(byKind).toEqual({
      value: ["body.time", 80, false],
      missing: ["body.time", 10, true],
      type: ["body.time", 10, true],
    });
    expect(shadow.requests.different).toBe(20);
    expect(shadow.verdict).toBe("fail");
  }, 30_000);

  it("noise is per route: /clock's noisy body.data does not excuse a bug in body.data on /orders", async () => {
    const name = await named("routes", origins.labMain, origins.labShadow, { noisePercent: 100 });
    await send(name, "/clock", 100);
    await send(name, "/orders", 100, 100);
    const report = await reportOf(name, 200);
    // Main against itself: body.data differs on every twin on /clock, never on /orders.
    expect(report.noise.fields).toEqual([{ route: "GET /clock", path: "body.data", kind: "value", rate: 1 }]);
    expect(report.noise.routes.map((r) => r.route).sort()).toEqual(["GET /clock", "GET /orders"]);
    const shadow = report.shadows[0] as ShadowReport;
    expectOneOutcomeEach(shadow);
    // Ids 100…199 on /orders: the shadow's data is wrong on every tenth; those ten count, /clock's hundred do not.
    expect(shadow.requests).toMatchObject({ compared: 200, different: 10, same: 190 });
    expect(shadow.fields).toEqual([
      expect.objectContaining({ path: "body.data", kind: "value", count: 110, counts: true }),
    ]);
    expect(shadow.verdict).not.toBe("pass");
  }, 30_000);

  it("a body comparison cut at its limit counts as different, unless body itself is ignored", async () => {
    const name = await named("wide", origins.labMain, origins.labShadow, { gate: { minRequests: 20 } });
    await send(name, "/wide", 20);
    const shadow = await shadowOf(name, 20);
    expect(shadow.fields).toContainEqual(
      expect.objectContaining({ path: "body", kind: "many", count: 20, counts: true }),
    );
    // 64 differences are kept, and the cut itself.
    expect(shadow.fields).toHaveLength(65);
    expect(shadow.requests.different).toBe(20);
    expect(shadow.verdict).toBe("fail");
    await api("PUT", `/services/${name}/policy`, { body: { ignore: ["body"] } });
    const ignored = await shadowOf(name, 20);
    expect(ignored.requests.different).toBe(0);
  });

  it("an ignored subtree of 78 changed keys is left out before the comparison's limit: not a counting body many", async () => {
    const name = await named("regions", origins.labMain, origins.labShadow, { ignore: ["body.regions"] });
    await send(name, "/regions", 150);
    const shadow = await shadowOf(name, 150);
    expectOneOutcomeEach(shadow);
    // Cut at 64 differences, the comparison used to record `body many`, which counts: fail on every request.
    expect(shadow.fields).toEqual([]);
    expect(shadow.requests).toMatchObject({ mirrored: 150, same: 150, different: 0 });
    expect(shadow.verdict).not.toBe("fail");
  }, 30_000);

  it("never passes a shadow none of whose bodies could be compared", async () => {
    const name = await named("overcap", origins.labMain, origins.labShadow, {
      gate: { minRequests: 20, maxDiffRate: 0.5, maxErrorRateIncrease: 0.5 },
    });
    // Bodies over the cap are compared by digest now; what cannot be compared is a body past the memory bound.
    await Promise.all(
      Array.from({ length: 25 }, async (_, k) => {
        const request = new Request(`${GATEWAY}/services/${name}/same`, {
          headers: { "x-request-id": `${name}-${k}` },
        });
        const { response, settled } = await withVars({ COMPARE_MEMORY_BYTES: "8" }, request);
        await response.arrayBuffer();
        await settled();
      }),
    );
    const shadow = await shadowOf(name, 25);
    expect(shadow.requests).toMatchObject({ mirrored: 25, compared: 0, notCompared: 25, same: 0 });
    // Inconclusive, or fail if it was also slow on a loaded machine: never pass.
    expect(shadow.verdict).not.toBe("pass");
    if (shadow.verdict === "inconclusive") {
      expect(shadow.reasons[0]).toBe(
        "0 compared requests, fewer than the 20 the gate needs; 25 answered but could not be compared (bodies over the cap, streamed, or past the memory bound)",
      );
      expect(shadow.reasons).toContain("no request was compared yet, so differences cannot be judged");
      expect(shadow.reasons.at(-1)).toBe(
        "it cannot pass until bodies are compared: raise COMPARE_MAX_BODY_BYTES, or send requests with smaller answers",
      );
    }
  }, 20_000);
});

describe("bounded evidence", () => {
  it("a map keyed by random ids over 1,000 requests gives a handful of fields and a bounded ledger", async () => {
    const name = await named("byid", origins.labMain, origins.labShadow);
    await send(name, "/by-id", 1000);
    const shadow = await shadowOf(name, 1000);
    expect(shadow.requests.mirrored).toBe(1000);
    expect(shadow.fields.length).toBeLessThanOrEqual(20);
    expect(shadow.fields.map((f) => `${f.path} ${f.kind}`).sort()).toEqual([
      "body.byId.* extra",
      "body.byId.* missing",
    ]);
    const rows = await runInDurableObject(ledgerOf(name), (_instance: EvidenceLedger, state) => {
      const count = (table: string) =>
        Number(state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n);
      return Object.fromEntries(
        ["counters", "signatures", "route_counts", "fields", "samples", "sample_paths", "noise_paths"].map((t) => [
          t,
          count(t),
        ]),
      );
    });
    // A minute or two of counters, one signature and one route per minute, two fields and the one route
    // (GET /by-id), five samples per path.
    expect(rows.counters).toBeLessThanOrEqual(3);
    expect(rows.signatures).toBeLessThanOrEqual(3);
    expect(rows.route_counts).toBeLessThanOrEqual(3);
    expect(rows.fields).toBeLessThanOrEqual(5);
    expect(rows.sample_paths).toBeLessThanOrEqual(10);
    expect(rows.samples).toBeLessThanOrEqual(10);
  }, 60_000);
});

describe("fresh samples", () => {
  const samplesOf = async (name: string) =>
    (await ledgerOf(name).diffs("2.0.0", { path: "body.price", limit: 100 })).samples.map((s) =>
      Number(s.requestId.split("-").at(-1)),
    );

  it("shows the newest differences, and samples again after the version's evidence was forgotten", async () => {
    const name = await named("fresh", origins.labMain, origins.labShadow);
    // /field differs at body.price on ids ending in 0.
    await send(name, "/field", 60, 0);
    await shadowOf(name, 60);
    expect((await samplesOf(name)).length).toBeGreaterThan(0);

    // Killed and deployed again: the ledger forgets 2.0.0; once its sample window has passed, this
    // same isolate offers samples again, and they are the newest exchanges.
    expect((await api("DELETE", `/services/${name}/2.0.0`)).status).toBe(200);
    await deploy(name, "2.0.0", origins.labShadow);
    expect(await samplesOf(name)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_WINDOW_MS + 100));
    await send(name, "/field", 60, 2000);
    await shadowOf(name, 60);
    const again = await samplesOf(name);
    expect(again.length).toBe(5);
    expect(again.every((n) => n >= 2000)).toBe(true);
  }, 40_000);
});

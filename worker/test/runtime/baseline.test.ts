import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { AssignResult } from "../../src/coordinator/results.ts";
import type { EvidenceReport, ReportSeries, ShadowReport } from "../../src/evidence/verdict.ts";
import { api } from "./admin-client.ts";
import { gatewayWithOwnCollection } from "./own-collection.ts";
import { deploy, gateway, uniqueName } from "./proxy-helpers.ts";

const origins = inject("origins");

type Report = EvidenceReport & { series: ReportSeries };

/** GETs `path` with ids `<prefix>-<from>` … `<prefix>-<from + count - 1>`, ten at a time, reading every answer whole. */
async function send(
  name: string,
  path: string,
  ids: { prefix: string; from: number; count: number },
  through = gateway,
) {
  const statuses: number[] = [];
  for (let start = 0; start < ids.count; start += 10) {
    const answers = await Promise.all(
      Array.from({ length: Math.min(10, ids.count - start) }, async (_, k) => {
        const response = await through(`/services/${name}${path}`, {
          headers: { "x-request-id": `${ids.prefix}-${ids.from + start + k}` },
          // Main's 302 is what the client gets; the test's fetch must not follow it.
          redirect: "manual",
        });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    statuses.push(...answers);
  }
  return statuses;
}

/** The report through the admin API, once `ready` holds for it (batches land about a second after the traffic). */
async function reportWhen(name: string, query: string, ready: (report: Report) => boolean): Promise<Report> {
  const deadline = Date.now() + 8_000;
  for (;;) {
    const res = await api<Report>("GET", `/services/${name}/report${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if (ready(res.body) || Date.now() > deadline) return res.body;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const shadowOf = (report: EvidenceReport, version: string) =>
  report.shadows.find((s) => s.version === version) as ShadowReport;
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

async function setPolicy(name: string, policy: unknown) {
  expect((await api("PUT", `/services/${name}/policy`, { body: policy })).status).toBe(200);
}

beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("evidence per baseline", () => {
  it("restarts the other shadows' evidence against a new main mid-traffic, and keeps the old baseline readable", async () => {
    const name = uniqueName("promo");
    await deploy(name, "1.0.0", origins.labMain);
    // Two identical shadows: the same answers to the same copies.
    await deploy(name, "2.0.0", origins.labShadow);
    await deploy(name, "3.0.0", origins.labShadow);
    await setPolicy(name, {
      noisePercent: 0,
      gate: { minRequests: 20, maxDiffRate: 0.05, maxErrorRateIncrease: 0.05, minP99DeltaMs: 10_000 },
    });

    // Against 1.0.0: /field differs on ids ending in 0, 10 % of them.
    await send(name, "/field", { prefix: "a", from: 0, count: 100 });
    const before = await reportWhen(
      name,
      "",
      (r) => shadowOf(r, "2.0.0").requests.mirrored >= 100 && shadowOf(r, "3.0.0").requests.mirrored >= 100,
    );
    expect(before.baseline.main).toBe("1.0.0");
    const [two, three] = [shadowOf(before, "2.0.0"), shadowOf(before, "3.0.0")];
    expect(two.requests).toMatchObject({ mirrored: 100, different: 10 });
    expect(three.requests).toEqual(two.requests);
    // 10 in 100 against a 5 % limit: never a pass (whether a fail yet depends on the bands at 100).
    expect(three.verdict).not.toBe("pass");
    expect(three.verdict).toBe(two.verdict);
    // The same reasons, but for latency: two origins never answer in the same milliseconds.
    const notLatency = (reasons: string[]) => reasons.filter((r) => !/\b(p99|median)\b/.test(r));
    expect(notLatency(three.reasons)).toEqual(notLatency(two.reasons));

    // Promoted while traffic keeps coming: the gate refuses a fail, so it is forced.
    const promotedAt = Date.now();
    const traffic = send(name, "/field", { prefix: "b", from: 0, count: 60 });
    const assigned = await api<AssignResult>("PUT", `/services/${name}/main`, {
      body: { version: "2.0.0", force: true },
    });
    expect(assigned.status).toBe(200);
    await traffic;
    const promotedBy = Date.now();
    // Clean copies against the new main (a pass itself needs several hundred, for the p99 band).
    await send(name, "/field", { prefix: "c", from: 0, count: 80 });

    // The current report: 3.0.0 against 2.0.0 only, from the promotion on. Identical origins: no difference.
    const after = await reportWhen(name, "?series=true", (r) => sum(r.series.main.requests) >= 240);
    expect(after.main).toBe("2.0.0");
    expect(after.baseline.main).toBe("2.0.0");
    const since = Date.parse(after.baseline.since ?? "");
    expect(since).toBeGreaterThanOrEqual(promotedAt);
    expect(since).toBeLessThanOrEqual(promotedBy);
    const restarted = shadowOf(after, "3.0.0");
    expect(restarted.requests.mirrored).toBeGreaterThanOrEqual(80);
    expect(restarted.requests.mirrored).toBeLessThanOrEqual(140);
    expect(restarted.requests.different).toBe(0);
    // Judged afresh: the old baseline's differences are not held against it.
    expect(restarted.verdict, restarted.reasons.join("; ")).not.toBe("fail");
    // The old main is now a shadow compared with 2.0.0: the price differs the other way round.
    expect(shadowOf(after, "1.0.0").requests.different).toBeGreaterThan(0);
    // Main's own numbers are the new main's, since its promotion.
    expect(after.mainTraffic.requests).toBeGreaterThanOrEqual(80);
    expect(after.mainTraffic.requests).toBeLessThanOrEqual(140);
    // The series carries main's traffic across the promotion, and marks it.
    expect(sum(after.series.main.requests)).toBe(240);
    expect(sum(after.series.main.status["2xx"])).toBe(240);
    expect(after.series.promotions).toEqual([{ at: after.baseline.since, main: "2.0.0" }]);

    // The old baseline is still there: both shadows' copies against 1.0.0, up to the promotion.
    const old = await api<Report>("GET", `/services/${name}/report?baseline=1.0.0`);
    expect(old.status).toBe(200);
    expect(old.body.baseline).toMatchObject({ main: "1.0.0", until: after.baseline.since });
    expect(old.body.shadows.map((s) => s.version)).toEqual(["2.0.0", "3.0.0"]);
    const oldTwo = shadowOf(old.body, "2.0.0");
    expect(oldTwo.requests.mirrored).toBeGreaterThanOrEqual(100);
    expect(oldTwo.requests.different).toBeGreaterThanOrEqual(10);
    expect(shadowOf(old.body, "3.0.0").requests).toEqual(oldTwo.requests);
    expect(oldTwo.verdict).not.toBe("pass");
    // Naming the current main is the current report.
    const current = await api<Report>("GET", `/services/${name}/report?baseline=2.0.0`);
    expect(current.body.baseline).toEqual(after.baseline);
  });

  it("shows each main its own noise: the twins sent to it, not those of the main before or after it", async () => {
    const name = uniqueName("twins");
    await deploy(name, "1.0.0", origins.labMain);
    await deploy(name, "2.0.0", origins.labShadow);
    // Every GET also goes to main itself; /time differs on every call, on both origins.
    await setPolicy(name, { noisePercent: 100 });
    await send(name, "/time", { prefix: "a", from: 0, count: 14 });
    const before = await reportWhen(name, "", (r) => r.noise.sampled >= 14);
    expect(before.noise).toMatchObject({ sampled: 14, fields: [expect.objectContaining({ path: "body.time" })] });

    const assigned = await api("PUT", `/services/${name}/main`, { body: { version: "2.0.0", force: true } });
    expect(assigned.status).toBe(200);
    // In the minute of the promotion: 2.0.0 has had no twin yet, whatever 1.0.0 had.
    const promoted = await api<Report>("GET", `/services/${name}/report`);
    expect(promoted.body.baseline.main).toBe("2.0.0");
    expect(promoted.body.noise.sampled).toBe(0);

    await send(name, "/time", { prefix: "b", from: 0, count: 5 });
    const after = await reportWhen(name, "", (r) => r.noise.sampled >= 5);
    expect(after.noise.sampled).toBe(5);
    const old = await api<Report>("GET", `/services/${name}/report?baseline=1.0.0`);
    expect(old.body.baseline.main).toBe("1.0.0");
    expect(old.body.noise.sampled).toBe(14);
  });

  it("answers 404 for a baseline no evidence was kept against, and 422 naming a malformed one", async () => {
    const name = uniqueName("nobase");
    await deploy(name, "1.0.0", origins.labMain);
    await deploy(name, "2.0.0", origins.labShadow);
    const missing = await api("GET", `/services/${name}/report?baseline=9.9.9`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: "baseline_not_found" });
    expect(missing.body.error?.message).toContain("9.9.9");
    const bad = await api("GET", `/services/${name}/report?baseline=${encodeURIComponent("1.0 0!")}`);
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ field: "baseline" });
  });
});

describe("main's own traffic", () => {
  it("counts main's requests, status classes and latency for a name with no shadows", async () => {
    const ok = uniqueName("alone");
    await deploy(ok, "1.0.0", origins.labMain);
    const redirects = uniqueName("moved");
    await deploy(redirects, "1.0.0", origins.redirect);
    const dead = uniqueName("deadmain");
    await deploy(dead, "1.0.0", origins.dead);

    expect(new Set(await send(ok, "/same", { prefix: "m", from: 0, count: 30 }))).toEqual(new Set([200]));
    expect(new Set(await send(redirects, "/", { prefix: "r", from: 0, count: 5 }))).toEqual(new Set([302]));
    expect(new Set(await send(dead, "/", { prefix: "d", from: 0, count: 3 }))).toEqual(new Set([502]));

    const report = await reportWhen(ok, "?series=true", (r) => r.mainTraffic.requests >= 30);
    expect(report.shadows).toEqual([]);
    expect(report.mainTraffic).toMatchObject({ requests: 30, status: { "2xx": 30, "3xx": 0, "4xx": 0, "5xx": 0 } });
    expect(report.mainTraffic.latencyMs.p99).toBeGreaterThan(0);
    expect(sum(report.series.main.requests)).toBe(30);
    expect(report.series.main.p99Ms.some((ms) => ms !== null && ms > 0)).toBe(true);
    expect(report.series.promotions).toEqual([]);

    const moved = await reportWhen(redirects, "", (r) => r.mainTraffic.requests >= 5);
    expect(moved.mainTraffic.status).toEqual({ "2xx": 0, "3xx": 5, "4xx": 0, "5xx": 0 });
    // A main that cannot be reached answered 502: that is main's 5xx.
    const down = await reportWhen(dead, "", (r) => r.mainTraffic.requests >= 3);
    expect(down.mainTraffic.status).toEqual({ "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 3 });
  });

  it("rides in the evidence batch: at most one ledger write per second for a busy name", async () => {
    const name = uniqueName("busy");
    await deploy(name, "1.0.0", origins.labMain);
    const own = gatewayWithOwnCollection();
    const started = Date.now();
    await send(name, "/same", { prefix: "w", from: 0, count: 120 }, own.fetch);
    const seconds = (Date.now() - started) / 1000;
    const batches = await own.batches();
    const report = await reportWhen(name, "", (r) => r.mainTraffic.requests >= 120);
    expect(report.mainTraffic.requests).toBe(120);
    expect(batches.failed).toBe(0);
    expect(batches.sent).toBeGreaterThanOrEqual(1);
    // One isolate here: one batch per second at most, not one write per request.
    expect(batches.sent).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
  });
});

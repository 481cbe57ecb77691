import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { Env } from "../../src/env.ts";
import type { ExchangeSample } from "../../src/evidence/batch.ts";
import type { EvidenceReport } from "../../src/evidence/verdict.ts";
import worker from "../../src/index.ts";
import { api, deploy, recordEvidence, TOKEN } from "./admin-client.ts";

const origins = inject("origins");
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let names = 0;
/** A fresh name with main 1.0.0 and the given shadows. */
async function freshName(...shadows: string[]): Promise<string> {
  const name = `evidence_${++names}`;
  expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
  for (const version of shadows) expect((await deploy(name, version, origins.v2)).status).toBe(201);
  return name;
}

const report = (name: string, query = "") => api<EvidenceReport>("GET", `/services/${name}/report${query}`);
const diffs = (name: string, version: string, query = "") =>
  api<{ samples: ExchangeSample[] }>("GET", `/services/${name}/${version}/diffs${query}`);

const EMPTY_LATENCY = { p50: 0, p95: 0, p99: 0 };
/** What a shadow without any evidence reports. */
const noEvidence = (version: string) => ({
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
  latencyMs: { main: EMPTY_LATENCY, shadow: EMPTY_LATENCY },
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
});

/** Histograms read back within 5 %: the report's quantiles are checked to that bound. */
const within5Percent = (ms: number) => ({ p50: near(ms), p95: near(ms), p99: near(ms) });
function near(ms: number) {
  return expect.toSatisfy((value: number) => Math.abs(value - ms) <= ms * 0.05, `within 5 % of ${ms} ms`);
}

const SAMPLED_AT = new Date().toISOString();

function sample(i: number, paths: string[]): ExchangeSample {
  const side = (price: number) => ({
    status: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: i, price }),
    truncated: false,
  });
  return {
    at: SAMPLED_AT,
    requestId: `req-${i}`,
    method: "GET",
    url: `/services/x/items/${i}`,
    paths,
    main: side(10),
    shadow: side(12),
  };
}

describe("GET /services/:name/report", () => {
  it("answers the evidence of every shadow over the last hour, in the report's exact shape", async () => {
    const name = await freshName("2.0.0", "3.0.0");
    const recorded = Date.now();
    // Field rates are over the 200 requests whose answers were compared (195 bodies, 5 on status and headers).
    await recordEvidence(name, "2.0.0", {
      at: recorded,
      compared: 195,
      notCompared: 5,
      skipped: 10,
      different: { "body.price": 20, "body.time": 150 },
      errorsMain: 1,
      errorsShadow: 3,
      latencyMs: { main: 20, shadow: 70 },
      // 40 twin copies on the route, past the floor a route's noise needs before it excuses anything.
      noise: { sampled: 40, paths: { "body.time value": 32 } },
    });
    const before = Date.now();
    const res = await report(name);
    expect(res.status).toBe(200);
    const { window, ...rest } = res.body;
    const to = Date.parse(window.to);
    expect(to).toBeGreaterThanOrEqual(before - 1000);
    expect(to - Date.parse(window.from)).toBe(HOUR);
    expect(rest).toEqual({
      name,
      main: "1.0.0",
      // No promotion was told: 1.0.0's baseline starts at its first evidence, this minute.
      baseline: { main: "1.0.0", since: new Date(Math.floor(recorded / MINUTE) * MINUTE).toISOString() },
      // Written straight into the ledger: no request went through main.
      mainTraffic: {
        requests: 0,
        status: { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 },
        latencyMs: { p50: 0, p95: 0, p99: 0 },
      },
      shadows: [
        {
          version: "2.0.0",
          verdict: "fail",
          // 195 latencies bound both medians (20 and 70 ms) apart; a p99 needs more to be bounded above.
          reasons: [expect.stringContaining("body.price"), expect.stringContaining("shadow median")],
          requests: {
            mirrored: 203,
            compared: 195,
            same: 175,
            different: 20,
            error: 3,
            notCompared: 5,
            down: 0,
            skipped: 10,
            unrecorded: 0,
            canary: 0,
          },
          errors: { main: 1, shadow: 3 },
          latencyMs: { main: within5Percent(20), shadow: within5Percent(70) },
          confidence: {
            diffRate: {
              rate: 20 / 195,
              low: expect.toSatisfy((low: number) => low > 0.01 && low < 20 / 195, "above the limit, below the rate"),
              high: expect.toSatisfy((high: number) => high > 20 / 195 && high < 0.25, "above the rate"),
            },
            errorRate: { rate: 3 / 203, low: expect.any(Number), high: expect.any(Number) },
            mainErrorRate: 1 / 203,
            errorIncrease: { rate: expect.any(Number), low: expect.any(Number), high: expect.any(Number) },
            latencySamples: 195,
            latencyMs: {
              p50: { main: { low: near(20), high: near(20) }, shadow: { low: near(70), high: near(70) } },
              p99: { main: { low: near(20), high: null }, shadow: { low: near(70), high: null } },
            },
            alpha: 0.01,
            anytime: true,
            moreRequests: null,
          },
          fields: [
            // body.time differs on 75 % of requests, main against itself on 80 %: noise, so it does not count.
            {
              path: "body.time",
              kind: "value",
              count: 150,
              rate: 0.75,
              noiseRate: 0.8,
              ignored: false,
              counts: false,
            },
            { path: "body.price", kind: "value", count: 20, rate: 0.1, noiseRate: 0, ignored: false, counts: true },
          ],
        },
        noEvidence("3.0.0"),
      ],
      noise: {
        sampled: 40,
        routes: [{ route: "GET /", sampled: 40 }],
        fields: [{ route: "GET /", path: "body.time", kind: "value", rate: 0.8 }],
      },
    });
  });

  it("applies the name's policy when it reads: ignored paths stop counting, thresholds decide", async () => {
    const name = await freshName("2.0.0");
    // 2,000 clean requests: enough for every band, the p99's among them, to be clearly within the limits.
    await recordEvidence(name, "2.0.0", {
      compared: 2000,
      different: { "body.price": 200 },
      latencyMs: { main: 20, shadow: 20 },
    });
    expect((await report(name)).body.shadows[0]?.verdict).toBe("fail");

    await api("PUT", `/services/${name}/policy`, { body: { ignore: ["body.price"] } });
    const ignored = (await report(name)).body.shadows[0];
    expect(ignored?.verdict).toBe("pass");
    expect(ignored?.requests).toMatchObject({ same: 2000, different: 0 });
    expect(ignored?.fields).toEqual([
      { path: "body.price", kind: "value", count: 200, rate: 0.1, noiseRate: 0, ignored: true, counts: false },
    ]);

    await api("PUT", `/services/${name}/policy`, { body: { ignore: [], gate: { minRequests: 5000 } } });
    const few = (await report(name)).body.shadows[0];
    expect(few?.verdict).toBe("inconclusive");
    expect(few?.reasons).toEqual([
      "2,000 copies with an outcome, fewer than the 5,000 the gate needs",
      "about 3,000 more requests at these rates would fail it",
    ]);
  });

  it("honours the window: 5m, 1h, 3h and 7d see what lies inside them", async () => {
    const name = await freshName("2.0.0");
    const now = Date.now();
    await recordEvidence(name, "2.0.0", { compared: 1, at: now });
    await recordEvidence(name, "2.0.0", { compared: 10, at: now - 30 * MINUTE });
    await recordEvidence(name, "2.0.0", { compared: 100, at: now - 2 * HOUR });
    await recordEvidence(name, "2.0.0", { compared: 1000, at: now - 6 * 24 * HOUR });
    const compared = async (window: string) => {
      const res = await report(name, `?window=${window}`);
      expect(res.status, window).toBe(200);
      expect(Date.parse(res.body.window.to) - Date.parse(res.body.window.from)).toBeGreaterThan(0);
      return res.body.shadows[0]?.requests.compared;
    };
    expect(await compared("5m")).toBe(1);
    expect(await compared("1h")).toBe(11);
    expect(await compared("60m")).toBe(11);
    expect(await compared("3h")).toBe(111);
    expect(await compared("7d")).toBe(1111);
    expect((await report(name)).body.shadows[0]?.requests.compared).toBe(11);
  });

  it("reports the versions the registry has: a killed shadow's evidence is not listed", async () => {
    const name = await freshName("2.0.0", "3.0.0");
    await recordEvidence(name, "3.0.0", { compared: 5 });
    expect((await api("DELETE", `/services/${name}/3.0.0`)).status).toBe(200);
    const res = await report(name);
    expect(res.body.shadows.map((s) => s.version)).toEqual(["2.0.0"]);
  });

  it("answers a name without shadows with an empty list", async () => {
    const name = await freshName();
    const res = await report(name);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name, main: "1.0.0", shadows: [], noise: { sampled: 0, routes: [], fields: [] } });
  });

  it("answers 404 for an unknown name", async () => {
    const res = await report("evidence_nobody");
    expect(res.status).toBe(404);
    expect(res.body.error?.code).toBe("service_not_found");
  });

  it.each([
    ["4m", "window must be from 5m to 7d"],
    ["8d", "window must be from 5m to 7d"],
    ["169h", "window must be from 5m to 7d"],
    ["0h", "window must be a duration such as 5m, 1h or 7d"],
    ["1.5h", "window must be a duration such as 5m, 1h or 7d"],
    ["1w", "window must be a duration such as 5m, 1h or 7d"],
    ["1H", "window must be a duration such as 5m, 1h or 7d"],
    ["", "window must be a duration such as 5m, 1h or 7d"],
    ["1h&window=2h", "window must be given once, not 2 times"],
  ])("answers 422 naming window for ?window=%s", async (window, message) => {
    const name = await freshName("2.0.0");
    const res = await report(name, `?window=${window}`);
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({ code: "invalid_field", message, field: "window" });
  });

  it.each(["report", "2.0.0/diffs"])("answers 503 saying so when the ledger cannot be reached (%s)", async (route) => {
    const name = await freshName("2.0.0");
    const fail = () => Promise.reject(new Error("connection lost"));
    const down = { getByName: () => ({ report: fail, diffs: fail }) } as unknown as Env["EVIDENCE_LEDGER"];
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`http://gateway.test/api/v1/services/${name}/${route}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
      { ...env, EVIDENCE_LEDGER: down },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(503);
    const body = await res.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe("evidence_unavailable");
    expect(body.error.message).toBe(`The evidence of ${name} could not be read (connection lost); try again shortly`);
  });
});

describe("GET /services/:name/:version/diffs", () => {
  it("answers the sampled exchanges of a shadow, newest first, filtered by path, up to the limit", async () => {
    const name = await freshName("2.0.0", "3.0.0");
    await recordEvidence(name, "2.0.0", {
      compared: 3,
      different: { "body.price": 3 },
      samples: [sample(1, ["body.price"]), sample(2, ["body.price", "body.id"]), sample(3, ["body.id"])],
    });
    const all = await diffs(name, "2.0.0");
    expect(all.status).toBe(200);
    expect(all.body.samples.map((s) => s.requestId)).toEqual(["req-3", "req-2", "req-1"]);
    expect(all.body.samples[2]).toEqual(sample(1, ["body.price"]));

    const price = await diffs(name, "2.0.0", "?path=body.price");
    expect(price.body.samples.map((s) => s.requestId)).toEqual(["req-2", "req-1"]);
    const one = await diffs(name, "2.0.0", "?path=body.id&limit=1");
    expect(one.body.samples.map((s) => s.requestId)).toEqual(["req-3"]);
    expect((await diffs(name, "3.0.0")).body).toEqual({ samples: [] });
  });

  it("answers 10 samples by default and at most 100", async () => {
    const name = await freshName("2.0.0");
    // Five samples are kept per path, so each sample gets a path of its own.
    const samples = Array.from({ length: 12 }, (_, i) => sample(i, [`body.f${i}`]));
    await recordEvidence(name, "2.0.0", { compared: 12, samples });
    expect((await diffs(name, "2.0.0")).body.samples).toHaveLength(10);
    expect((await diffs(name, "2.0.0", "?limit=100")).body.samples).toHaveLength(12);
  });

  it("answers 404 for an unknown name or version", async () => {
    const name = await freshName("2.0.0");
    const version = await diffs(name, "9.0.0");
    expect(version.status).toBe(404);
    expect(version.body.error?.code).toBe("version_not_found");
    const missing = await diffs("evidence_nobody", "2.0.0");
    expect(missing.status).toBe(404);
    expect(missing.body.error?.code).toBe("service_not_found");
  });

  it.each([
    ["?limit=0", "limit", "limit must be a whole number from 1 to 100"],
    ["?limit=101", "limit", "limit must be a whole number from 1 to 100"],
    ["?limit=1.5", "limit", "limit must be a whole number from 1 to 100"],
    ["?limit=ten", "limit", "limit must be a whole number from 1 to 100"],
    ["?limit=1&limit=2", "limit", "limit must be given once, not 2 times"],
    [
      "?path=price",
      "path",
      "path must be a difference path: status, header.<lower-case name>, body, or body.<json path> with [] for array indexes and * for identifier keys",
    ],
    ["?path=Header.ETag", "path", expect.stringMatching(/^path must be a difference path/)],
  ])("answers 422 naming the parameter for %s", async (query, field, message) => {
    const name = await freshName("2.0.0");
    const res = await diffs(name, "2.0.0", query);
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({ code: "invalid_field", message, field });
  });

  it("answers 422 for an invalid version in the path", async () => {
    const res = await diffs("evidence_x", "latest");
    expect(res.status).toBe(422);
    expect(res.body.error?.field).toBe("version");
  });
});

describe("killing a shadow forgets its evidence", () => {
  it("deployed again under the same version, it starts with an empty report and samples", async () => {
    const name = await freshName("2.0.0", "3.0.0");
    await recordEvidence(name, "2.0.0", {
      compared: 200,
      different: { "body.price": 100 },
      noise: { sampled: 4, paths: { "body.time value": 4 } },
      samples: [sample(1, ["body.price"])],
    });
    await recordEvidence(name, "3.0.0", { compared: 7 });
    expect((await report(name)).body.shadows[0]?.verdict).toBe("fail");

    expect((await api("DELETE", `/services/${name}/2.0.0`)).status).toBe(200);
    expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
    const again = await report(name);
    expect(again.body.shadows).toEqual([
      expect.objectContaining({ version: "3.0.0", requests: expect.objectContaining({ compared: 7 }) }),
      noEvidence("2.0.0"),
    ]);
    // The noise describes main, which is still there.
    expect(again.body.noise.sampled).toBe(4);
    expect((await diffs(name, "2.0.0")).body).toEqual({ samples: [] });
  });
});

describe("killing a name empties its evidence", () => {
  it("by name: deployed again, the name has an empty report, no samples and the default policy", async () => {
    const name = await freshName("2.0.0");
    await recordEvidence(name, "2.0.0", {
      compared: 200,
      different: { "body.price": 50 },
      noise: { sampled: 4, paths: { "body.time value": 4 } },
      samples: [sample(1, ["body.price"])],
    });
    await api("PUT", `/services/${name}/policy`, { body: { noisePercent: 50 } });
    expect((await report(name)).body.shadows[0]?.requests.compared).toBe(200);

    expect((await api("DELETE", `/services/${name}`)).status).toBe(200);
    expect((await report(name)).status).toBe(404);
    expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
    expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
    const again = await report(name);
    expect(again.body.shadows).toEqual([noEvidence("2.0.0")]);
    expect(again.body.noise).toEqual({ sampled: 0, routes: [], fields: [] });
    expect((await diffs(name, "2.0.0")).body).toEqual({ samples: [] });
    expect((await api<{ noisePercent: number }>("GET", `/services/${name}/policy`)).body.noisePercent).toBe(5);
  });

  it("by its last version: the same", async () => {
    const name = await freshName("2.0.0");
    await recordEvidence(name, "2.0.0", { compared: 50 });
    expect((await api("DELETE", `/services/${name}/2.0.0`)).status).toBe(200);
    expect((await api("DELETE", `/services/${name}/1.0.0`)).status).toBe(200);
    expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
    expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
    expect((await report(name)).body.shadows).toEqual([noEvidence("2.0.0")]);
  });
});

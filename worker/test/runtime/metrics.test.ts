import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { EvidenceReport } from "../../src/evidence/verdict.ts";
import { api, deploy, type EvidenceMinute, recordEvidence, TOKEN } from "./admin-client.ts";
import { gateway } from "./proxy-helpers.ts";

// GET /api/v1/metrics against the real ledger: counters equal the report, outlive pruning, reset on forget.
const origins = inject("origins");
const DAY = 24 * 3_600_000;

let names = 0;
async function freshName(): Promise<string> {
  const name = `metrics_${++names}`;
  expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
  expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
  return name;
}

async function scrape(): Promise<{ status: number; type: string | null; text: string }> {
  const response = await exports.default.fetch("http://gateway.test/api/v1/metrics", {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
}

/** The value of the one sample with exactly these labels, in the writer's label order; undefined when absent. */
function sample(text: string, metric: string, labels: Record<string, string>): number | undefined {
  const wanted = `${metric}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}} `;
  const line = text.split("\n").find((l) => l.startsWith(wanted));
  return line === undefined ? undefined : Number(line.slice(wanted.length));
}

const copies = (text: string, service: string, outcome: string) =>
  sample(text, "daeploy_copies_total", { service, version: "2.0.0", outcome });

const minute = (over: Partial<EvidenceMinute> = {}): EvidenceMinute => ({
  compared: 100,
  mirrored: 110,
  skipped: 10,
  notCompared: 4,
  errorsShadow: 3,
  different: { "body.price": 20, "body.items[].id": 5 },
  latencyMs: { main: 18, shadow: 42 },
  ...over,
});

describe("GET /api/v1/metrics", () => {
  it("answers the text format, each family typed once", async () => {
    await freshName();
    const { status, type, text } = await scrape();
    expect(status).toBe(200);
    expect(type).toBe("text/plain; version=0.0.4; charset=utf-8");
    for (const [family, kind] of [
      ["daeploy_copies_total", "counter"],
      ["daeploy_request_duration_seconds", "histogram"],
      ["daeploy_shadow_verdict", "gauge"],
      ["daeploy_field_differences_total", "counter"],
    ]) {
      expect(text.split("\n").filter((l) => l === `# TYPE ${family} ${kind}`)).toHaveLength(1);
    }
  });

  it("needs a token", async () => {
    const response = await exports.default.fetch("http://gateway.test/api/v1/metrics");
    expect(response.status).toBe(401);
  });

  it("counts copies as the report does, with latency, verdict and fields", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", minute());
    const report = (await api<EvidenceReport>("GET", `/services/${name}/report?window=7d`)).body;
    const shadow = report.shadows[0];
    const { text } = await scrape();
    expect({
      same: copies(text, name, "same"),
      different: copies(text, name, "different"),
      error: copies(text, name, "error"),
      not_compared: copies(text, name, "not_compared"),
      skipped: copies(text, name, "skipped"),
      down: copies(text, name, "down"),
    }).toEqual({
      same: shadow?.requests.same,
      different: shadow?.requests.different,
      error: shadow?.errors.shadow,
      not_compared: shadow?.requests.notCompared,
      skipped: shadow?.requests.skipped,
      down: 0,
    });
    expect(copies(text, name, "different")).toBe(25);
    const shadowLatency = { service: name, version: "2.0.0", role: "shadow" };
    expect(sample(text, "daeploy_request_duration_seconds_count", shadowLatency)).toBe(100);
    // 42 ms falls in (0.03, 0.05]: nothing below, everything from there up.
    expect(sample(text, "daeploy_request_duration_seconds_bucket", { ...shadowLatency, le: "0.03" })).toBe(0);
    expect(sample(text, "daeploy_request_duration_seconds_bucket", { ...shadowLatency, le: "0.05" })).toBe(100);
    expect(sample(text, "daeploy_request_duration_seconds_bucket", { ...shadowLatency, le: "+Inf" })).toBe(100);
    expect(sample(text, "daeploy_request_duration_seconds_sum", shadowLatency)).toBeCloseTo(4.2, 1);
    const mainLatency = { service: name, version: "2.0.0", role: "main" };
    expect(sample(text, "daeploy_request_duration_seconds_bucket", { ...mainLatency, le: "0.015" })).toBe(0);
    expect(sample(text, "daeploy_request_duration_seconds_bucket", { ...mainLatency, le: "0.02" })).toBe(100);
    for (const verdict of ["pass", "fail", "inconclusive"]) {
      expect(sample(text, "daeploy_shadow_verdict", { service: name, version: "2.0.0", verdict })).toBe(
        verdict === shadow?.verdict ? 1 : 0,
      );
    }
    expect(shadow?.verdict).toBe("fail");
    const field = (path: string) =>
      sample(text, "daeploy_field_differences_total", { service: name, version: "2.0.0", path, kind: "value" });
    expect([field("body.price"), field("body.items[].id")]).toEqual([20, 5]);
  });

  it("never lowers different when a path is ignored: an outcome is fixed when recorded, the report changes", async () => {
    const name = `metrics_ignore_${++names}`;
    expect((await deploy(name, "1.0.0", origins.labMain)).status).toBe(201);
    expect((await deploy(name, "2.0.0", origins.labShadow)).status).toBe(201);
    // Through the lab origins: ids 0…99, the shadow's price differs on every tenth.
    for (let start = 0; start < 100; start += 10) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, k) => {
          const response = await gateway(`/services/${name}/field`, {
            headers: { "x-request-id": `${name}-${start + k}` },
          });
          await response.arrayBuffer();
        }),
      );
    }
    const deadline = Date.now() + 8_000;
    while (
      (copies((await scrape()).text, name, "different") ?? 0) + (copies((await scrape()).text, name, "same") ?? 0) <
      100
    ) {
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const before = (await scrape()).text;
    expect([copies(before, name, "same"), copies(before, name, "different")]).toEqual([90, 10]);
    expect((await api("PUT", `/services/${name}/policy`, { body: { ignore: ["body.price"] } })).status).toBe(200);
    // The report reads the window afresh: the price no longer counts there…
    const report = (await api<EvidenceReport>("GET", `/services/${name}/report`)).body;
    expect(report.shadows[0]?.requests.different).toBe(0);
    // …and the counters keep what each copy was when it was recorded.
    const after = (await scrape()).text;
    expect([copies(after, name, "same"), copies(after, name, "different")]).toEqual([90, 10]);
  }, 30_000);

  it("keeps counting across the ledger's 7-day pruning, and starts again after a kill forgets the version", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", minute({ at: Date.now() - 8 * DAY }));
    await recordEvidence(name, "2.0.0", minute());
    const before = await scrape();
    expect(copies(before.text, name, "different")).toBe(50);
    expect(await runDurableObjectAlarm(env.EVIDENCE_LEDGER.getByName(name))).toBe(true);
    const report = (await api<EvidenceReport>("GET", `/services/${name}/report?window=7d`)).body;
    expect(report.shadows[0]?.requests.different).toBe(25); // the old minute is gone from the ledger's rows
    const after = await scrape();
    for (const outcome of ["same", "different", "error", "not_compared", "skipped"]) {
      expect(copies(after.text, name, outcome), outcome).toBe(copies(before.text, name, outcome));
    }
    await recordEvidence(name, "2.0.0", minute());
    expect(copies((await scrape()).text, name, "different")).toBe(75);

    expect((await api("DELETE", `/services/${name}/2.0.0`)).status).toBe(200);
    expect(copies((await scrape()).text, name, "different")).toBeUndefined();
    expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
    const fresh = await scrape();
    expect(copies(fresh.text, name, "different")).toBe(0);
    expect(
      sample(fresh.text, "daeploy_request_duration_seconds_count", { service: name, version: "2.0.0", role: "shadow" }),
    ).toBe(0);
  });

  it("escapes label values, so an odd field path stays one label", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", minute({ different: { 'body["a\\"b"]': 7 } }));
    const { text } = await scrape();
    expect(text).toContain(
      `daeploy_field_differences_total{service="${name}",version="2.0.0",path="body[\\"a\\\\\\"b\\"]",kind="value"} 7`,
    );
  });
});

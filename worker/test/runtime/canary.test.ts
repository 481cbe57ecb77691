import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { ShadowReport } from "../../src/evidence/verdict.ts";
import { canaryBucket } from "../../src/proxy/canary.ts";
import { isSampled } from "../../src/proxy/sampling.ts";
import type { RecordedRequest } from "../support/origins.ts";
import { deploy, gateway, uniqueName } from "./proxy-helpers.ts";

const origins = inject("origins");
const ADMIN = { authorization: "Bearer test-token", "content-type": "application/json" };

/** Sets a version's canary through the real admin API. */
async function patch(name: string, version: string, body: Record<string, unknown>): Promise<Response> {
  return gateway(`/api/v1/services/${name}/${version}`, {
    method: "PATCH",
    headers: ADMIN,
    body: JSON.stringify(body),
  });
}

/**
 * What one origin recorded for a name: x-request-id → whether any request with it came unmarked, that is,
 * was the one that answered a client (main also gets marked noise copies of some GETs besides).
 */
async function seenAt(origin: string, name: string): Promise<Map<string, boolean>> {
  const all: RecordedRequest[] = await (await fetch(`${new URL(origin).origin}/__requests`)).json();
  const seen = new Map<string, boolean>();
  for (const r of all.filter((r) => r.headers["x-forwarded-prefix"] === `/services/${name}`)) {
    const id = String(r.headers["x-request-id"]);
    seen.set(id, (seen.get(id) ?? false) || r.headers["x-daeploy-shadow"] !== "1");
  }
  return seen;
}

async function waitForSeen(origin: string, name: string, count: number, withinMs = 6_000) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const seen = await seenAt(origin, name);
    if (seen.size >= count || Date.now() > deadline) return seen;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** GETs with fixed ids `canary-<i>` (names tell runs apart), ten at a time: id → the version that answered. */
async function sendMany(name: string, count: number, headers: (i: number) => Record<string, string> = () => ({})) {
  const answeredBy = new Map<string, string>();
  for (let start = 0; start < count; start += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, count - start) }, async (_, k) => {
        const id = `canary-${start + k}`;
        const response = await gateway(`/services/${name}/item`, {
          headers: { "x-request-id": id, ...headers(start + k) },
        });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        answeredBy.set(id, String(response.headers.get("x-origin-version")));
      }),
    );
  }
  return answeredBy;
}

/** The ledger's report of one shadow once it holds `expected` copies. */
async function shadowReport(name: string, version: string, expected: number): Promise<ShadowReport> {
  const deadline = Date.now() + 8_000;
  for (;;) {
    const report = await env.EVIDENCE_LEDGER.getByName(name).report({
      name,
      from: Date.now() - 3_600_000,
      to: Date.now() + 60_000,
      main: "1.0.0",
      shadows: [version],
    });
    const shadow = report.shadows[0] as ShadowReport;
    if (shadow.requests.mirrored + shadow.requests.down >= expected || Date.now() > deadline) return shadow;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("canary", () => {
  it("at 20 % answers exactly the requests the documented hash picks, and every request is still a pair", {
    timeout: 20_000,
  }, async () => {
    const name = uniqueName("canary");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const set = await patch(name, "2.0.0", { canaryPercent: 20 });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ canaryPercent: 20, canaryKey: null, mirrorPercent: 100 });

    const answeredBy = await sendMany(name, 400);
    const predicted = [...answeredBy.keys()].filter((id) => isSampled(canaryBucket(id), 20));
    const byCanary = [...answeredBy].filter(([, version]) => version === "2.0.0").map(([id]) => id);
    expect(byCanary.sort()).toEqual(predicted.sort());
    expect(byCanary.length).toBeGreaterThanOrEqual(0.15 * 400);
    expect(byCanary.length).toBeLessThanOrEqual(0.25 * 400);
    expect([...answeredBy.values()].filter((v) => v === "1.0.0")).toHaveLength(400 - byCanary.length);

    // Main gets only a marked copy of each request the canary answered; the canary only a marked copy of the rest.
    const atMain = await waitForSeen(origins.v1, name, 400);
    const atCanary = await waitForSeen(origins.v2, name, 400);
    expect(atMain.size).toBe(400);
    expect(atCanary.size).toBe(400);
    const canaryIds = new Set(predicted);
    for (const [id, answered] of atMain) expect(answered, id).toBe(!canaryIds.has(id));
    for (const [id, answered] of atCanary) expect(answered, id).toBe(canaryIds.has(id));

    // The evidence counts both kinds of pair, the canary-answered ones apart.
    const shadow = await shadowReport(name, "2.0.0", 400);
    expect(shadow.requests.mirrored).toBe(400);
    expect(shadow.requests.canary).toBe(predicted.length);
    expect(shadow.requests.error).toBe(0);
  });

  it("keeps one user on one version with canaryKey x-user-id, as the hash of the header's value says", async () => {
    const name = uniqueName("sticky");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    expect((await patch(name, "2.0.0", { canaryPercent: 30, canaryKey: "x-user-id" })).status).toBe(200);
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    // Five requests per user, each with its own request id.
    const answeredBy = await sendMany(name, 200, (i) => ({ "x-user-id": users[i % 40] as string }));
    for (const [u, user] of users.entries()) {
      const versions = new Set([0, 1, 2, 3, 4].map((round) => answeredBy.get(`canary-${round * 40 + u}`)));
      // Deterministic: the same in every isolate and after every restart, since nothing but the value decides.
      const expected = isSampled(canaryBucket(user), 30) ? "2.0.0" : "1.0.0";
      expect([...versions], user).toEqual([expected]);
    }
    const onCanary = users.filter((user) => isSampled(canaryBucket(user), 30)).length;
    expect(onCanary).toBeGreaterThan(0);
    expect(onCanary).toBeLessThan(40);
  });

  it("replaces a dead canary by main: no client sees an error, the canary's error rate shows it, its verdict fails", {
    timeout: 20_000,
  }, async () => {
    const name = uniqueName("deadcanary");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.dead);
    expect((await patch(name, "2.0.0", { canaryPercent: 50 })).status).toBe(200);
    const answeredBy = await sendMany(name, 120);
    expect(new Set(answeredBy.values())).toEqual(new Set(["1.0.0"]));
    // Main answered every client itself, unmarked, including those the canary should have answered.
    const atMain = await waitForSeen(origins.v1, name, 120);
    expect([...atMain.values()].filter(Boolean)).toHaveLength(120);
    const shadow = await shadowReport(name, "2.0.0", 120);
    // Mirrored copies stop while the isolate pauses the dead shadow (they count as down); its canary pairs do not.
    expect(shadow.requests.mirrored + shadow.requests.down).toBe(120);
    expect(shadow.requests.error + shadow.requests.down).toBe(120);
    expect(shadow.confidence.errorRate.rate).toBe(1);
    expect(shadow.requests.canary).toBe([...answeredBy.keys()].filter((id) => isSampled(canaryBucket(id), 50)).length);
    expect(shadow.verdict).toBe("fail");
  });

  it("refuses a canary over 50 % or a key that is no header name, naming the field, and changes nothing", async () => {
    const name = uniqueName("badcanary");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    for (const [body, field] of [
      [{ canaryPercent: 50.01 }, "canaryPercent"],
      [{ canaryPercent: 20, canaryKey: "X User" }, "canaryKey"],
      [{ canaryPercent: 12.345 }, "canaryPercent"],
    ] as const) {
      const response = await patch(name, "2.0.0", body);
      expect(response.status).toBe(422);
      expect(((await response.json()) as { error: { field: string } }).error.field).toBe(field);
    }
    const deployed = await gateway("/api/v1/services", {
      method: "POST",
      headers: ADMIN,
      body: JSON.stringify({ name, version: "3.0.0", origin: origins.v2, check: false, canaryPercent: 60 }),
    });
    expect(deployed.status).toBe(422);
    expect(((await deployed.json()) as { error: { field: string } }).error.field).toBe("canaryPercent");
    const listed = (await (await gateway(`/api/v1/services/${name}`, { headers: ADMIN })).json()) as {
      services: { version: string; canaryPercent: number }[];
    };
    expect(listed.services.map((s) => [s.version, s.canaryPercent])).toEqual([
      ["1.0.0", 0],
      ["2.0.0", 0],
    ]);
  });
});

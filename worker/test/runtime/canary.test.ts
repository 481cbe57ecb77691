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

  it("replaces a dead canary by main, then stops asking it: no client sees an error, its verdict fails", {
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
    // Its breaker stops it answering after 5 failures in a row: the rest of its share counts as down.
    const share = [...answeredBy.keys()].filter((id) => isSampled(canaryBucket(id), 50)).length;
    expect(shadow.requests.canary).toBeGreaterThanOrEqual(5);
    expect(shadow.requests.canary).toBeLessThan(share);
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

  it("keeps a name's canary shares to 50 in all, naming the field and the total, and main to none", async () => {
    const name = uniqueName("shares");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    await deploy(name, "3.0.0", origins.v3);
    expect((await patch(name, "2.0.0", { canaryPercent: 40 })).status).toBe(200);
    const second = await patch(name, "3.0.0", { canaryPercent: 40 });
    expect(second.status).toBe(422);
    const refused = ((await second.json()) as { error: { field: string; message: string } }).error;
    expect(refused.field).toBe("canaryPercent");
    expect(refused.message).toContain(`the canary shares of ${name} add up to 80 % (2.0.0 40 %, 3.0.0 40 %)`);
    expect((await patch(name, "3.0.0", { canaryPercent: 10 })).status).toBe(200);
    // A deploy is held to the same total.
    const deployed = await gateway("/api/v1/services", {
      method: "POST",
      headers: ADMIN,
      body: JSON.stringify({ name, version: "4.0.0", origin: origins.v2, check: false, canaryPercent: 0.01 }),
    });
    expect(deployed.status).toBe(422);
    expect(((await deployed.json()) as { error: { message: string } }).error.message).toContain("add up to 50.01 %");

    const onMain = await patch(name, "1.0.0", { canaryPercent: 20 });
    expect(onMain.status).toBe(422);
    const mainRefused = ((await onMain.json()) as { error: { field: string; message: string } }).error;
    expect(mainRefused.field).toBe("canaryPercent");
    expect(mainRefused.message).toContain("it is main");
    expect(await shares(name)).toEqual([
      ["1.0.0", 0],
      ["2.0.0", 40],
      ["3.0.0", 10],
    ]);
  });

  it("sets an old main's share to 0 when another version is made main", async () => {
    const name = uniqueName("oldmain");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    expect((await patch(name, "2.0.0", { canaryPercent: 20 })).status).toBe(200);
    // A main stored with a share (written before mains were refused one) must not keep it once demoted.
    await env.DB.prepare("UPDATE services SET canary_percent = 30 WHERE name = ? AND version = '1.0.0'")
      .bind(name)
      .run();
    const assigned = await gateway(`/api/v1/services/${name}/main`, {
      method: "PUT",
      headers: ADMIN,
      body: JSON.stringify({ version: "2.0.0", force: true }),
    });
    expect(assigned.status).toBe(200);
    expect(await shares(name)).toEqual([
      ["1.0.0", 0],
      ["2.0.0", 0],
    ]);
    const answeredBy = await sendMany(name, 40);
    expect(new Set(answeredBy.values())).toEqual(new Set(["2.0.0"]));
  });

  it("keeps every user of a 10 % canary on it when the share grows to 30 %", { timeout: 30_000 }, async () => {
    const name = uniqueName("growing");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    expect((await patch(name, "2.0.0", { canaryPercent: 10, canaryKey: "x-user-id" })).status).toBe(200);
    const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const user = (i: number) => ({ "x-user-id": users[i] as string });
    const onCanary = (answeredBy: Map<string, string>) =>
      users.filter((_, i) => answeredBy.get(`canary-${i}`) === "2.0.0");
    const atTen = onCanary(await sendMany(name, 200, user));
    expect(atTen.length).toBeGreaterThan(5);
    expect((await patch(name, "2.0.0", { canaryPercent: 30 })).status).toBe(200);
    const atThirty = onCanary(await sendMany(name, 200, user));
    expect(atThirty.filter((u) => atTen.includes(u))).toEqual(atTen);
    expect(atThirty.length).toBeGreaterThan(atTen.length);
  });

  it("sends a canary's request through its stripHeaders, and answers only its mirrorMethods", async () => {
    const name = uniqueName("canarycontrols");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const set = await patch(name, "2.0.0", { canaryPercent: 50, stripHeaders: ["x-api-key"], mirrorMethods: ["GET"] });
    expect(set.status).toBe(200);
    const ids = Array.from({ length: 200 }, (_, i) => `${name}-${i}`).filter((id) => isSampled(canaryBucket(id), 50));
    const [getId, postId] = ids as [string, string];

    const get = await gateway(`/services/${name}/item`, { headers: { "x-request-id": getId, "x-api-key": "k-1" } });
    expect(get.headers.get("x-origin-version")).toBe("2.0.0");
    await get.arrayBuffer();
    const atCanary = await waitForSeenAt(origins.v2, getId);
    expect(atCanary.map((r) => [r.headers["x-daeploy-shadow"], r.headers["x-api-key"]])).toEqual([
      [undefined, undefined],
    ]);
    // Main's marked copy is main's own: the canary's stripHeaders do not apply to it.
    expect((await waitForSeenAt(origins.v1, getId)).map((r) => r.headers["x-api-key"])).toEqual(["k-1"]);

    // A POST in the canary's share, with POST outside its methods: main answers it, the canary never sees it.
    const post = await gateway(`/services/${name}/item`, {
      method: "POST",
      headers: { "x-request-id": postId },
      body: "{}",
    });
    expect(post.headers.get("x-origin-version")).toBe("1.0.0");
    await post.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await seenByAt(origins.v2, postId)).toEqual([]);
  });
});

/** Each version of a name with its canary share, through the admin API. */
async function shares(name: string): Promise<[string, number][]> {
  const listed = (await (await gateway(`/api/v1/services/${name}`, { headers: ADMIN })).json()) as {
    services: { version: string; canaryPercent: number }[];
  };
  return listed.services.map((s) => [s.version, s.canaryPercent]);
}

async function seenByAt(origin: string, id: string): Promise<RecordedRequest[]> {
  return (await fetch(`${new URL(origin).origin}/__requests?id=${encodeURIComponent(id)}`)).json();
}

async function waitForSeenAt(origin: string, id: string): Promise<RecordedRequest[]> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    const seen = await seenByAt(origin, id);
    if (seen.length > 0 || Date.now() > deadline) return seen;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

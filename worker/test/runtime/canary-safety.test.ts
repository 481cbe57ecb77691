import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { ShadowReport } from "../../src/evidence/verdict.ts";
import { canaryBucket } from "../../src/proxy/canary.ts";
import { isSampled } from "../../src/proxy/sampling.ts";
import type { RecordedRequest } from "../support/origins.ts";
import { deploy, GATEWAY, gateway, seenBy, uniqueName, waitForSeen, withVars } from "./proxy-helpers.ts";

// A canary answers real users, so nothing it does may make production do a write twice.

const origins = inject("origins");
const ADMIN = { authorization: "Bearer test-token", "content-type": "application/json" };

async function patch(name: string, version: string, body: Record<string, unknown>): Promise<void> {
  const response = await gateway(`/api/v1/services/${name}/${version}`, {
    method: "PATCH",
    headers: ADMIN,
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** Everything an origin recorded for one name. */
async function requestsAt(origin: string, name: string): Promise<RecordedRequest[]> {
  const all: RecordedRequest[] = await (await fetch(`${new URL(origin).origin}/__requests`)).json();
  return all.filter((r) => r.headers["x-forwarded-prefix"] === `/services/${name}`);
}

const idOf = (r: RecordedRequest) => String(r.headers["x-request-id"]);
const marked = (r: RecordedRequest) => r.headers["x-daeploy-shadow"] === "1";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `count` request ids that a 50 % canary answers (the documented hash picks them). */
function canaryIds(prefix: string, count: number): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) {
    if (isSampled(canaryBucket(`${prefix}-${i}`), 50)) ids.push(`${prefix}-${i}`);
  }
  return ids;
}

/** POSTs with ids `<name>-<i>`, ten at a time: id → the version that answered, or the status when it was no 200. */
async function postMany(name: string, count: number): Promise<Map<string, string>> {
  const answeredBy = new Map<string, string>();
  for (let start = 0; start < count; start += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, count - start) }, async (_, k) => {
        const id = `${name}-${start + k}`;
        const response = await gateway(`/services/${name}/orders`, {
          method: "POST",
          headers: { "x-request-id": id, "content-type": "application/json" },
          body: JSON.stringify({ order: start + k }),
        });
        await response.arrayBuffer();
        answeredBy.set(
          id,
          response.status === 200 ? String(response.headers.get("x-origin-version")) : `${response.status}`,
        );
      }),
    );
  }
  return answeredBy;
}

/** The ledger's report of one shadow once it holds `expected` outcomes. */
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
    await sleep(100);
  }
}

/** A request through the worker with a short SHADOW_TIMEOUT_MS, and the time until its answer arrived. */
async function timed(path: string, init: RequestInit, shadowTimeoutMs: number) {
  const started = Date.now();
  const { response, settled } = await withVars(
    { SHADOW_TIMEOUT_MS: String(shadowTimeoutMs) },
    new Request(`${GATEWAY}${path}`, init),
  );
  const ms = Date.now() - started;
  const text = await response.text();
  return { response, text, ms, settled };
}

beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a canary's writes", () => {
  it("at 50 %, 200 POSTs: main never sees one the canary answered, and no request id twice", {
    timeout: 30_000,
  }, async () => {
    const name = uniqueName("writes");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    await patch(name, "2.0.0", { canaryPercent: 50 });

    const answeredBy = await postMany(name, 200);
    expect(new Set(answeredBy.values())).toEqual(new Set(["1.0.0", "2.0.0"]));
    const byCanary = [...answeredBy].filter(([, version]) => version === "2.0.0").map(([id]) => id);
    expect(byCanary.length).toBeGreaterThan(60);
    // The canary holds every POST: its own, and a marked copy of each of main's. Then a moment for strays.
    const deadline = Date.now() + 6_000;
    while ((await requestsAt(origins.v2, name)).length < 200 && Date.now() < deadline) await sleep(50);
    await sleep(500);

    const atMain = await requestsAt(origins.v1, name);
    const ids = atMain.map(idOf);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => byCanary.includes(id))).toEqual([]);
    expect(atMain).toHaveLength(200 - byCanary.length);
    expect(atMain.filter(marked)).toEqual([]);

    // Unpaired, the canary's answers still count as its own, and apart.
    const shadow = await shadowReport(name, "2.0.0", 200);
    expect(shadow.requests.mirrored).toBe(200);
    expect(shadow.requests.canary).toBe(byCanary.length);
    expect(shadow.requests.error).toBe(0);
  });

  it("with canaryWrites on, main gets a marked copy of each POST the canary answered, and nothing else twice", {
    timeout: 20_000,
  }, async () => {
    const name = uniqueName("optin");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    await patch(name, "2.0.0", { canaryPercent: 50, canaryWrites: true });
    const answeredBy = await postMany(name, 40);
    const byCanary = [...answeredBy].filter(([, version]) => version === "2.0.0").map(([id]) => id);
    expect(byCanary.length).toBeGreaterThan(0);
    const atMain = await waitForSeenAll(origins.v1, name, 40);
    expect(atMain.map(idOf).sort()).toEqual([...answeredBy.keys()].sort());
    expect(atMain.filter(marked).map(idOf).sort()).toEqual(byCanary.sort());
  });

  it("a dead canary (refusing connections): each POST reaches main exactly once, and every client gets 200", {
    timeout: 20_000,
  }, async () => {
    const name = uniqueName("deadwrites");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.dead);
    await patch(name, "2.0.0", { canaryPercent: 50 });
    const answeredBy = await postMany(name, 60);
    expect(new Set(answeredBy.values())).toEqual(new Set(["1.0.0"]));
    await sleep(300);
    const atMain = await requestsAt(origins.v1, name);
    expect(atMain.map(idOf).sort()).toEqual([...answeredBy.keys()].sort());
    expect(atMain.filter(marked)).toEqual([]);
  });

  it("a hanging canary: a POST it received never reaches main, the client gets 504 naming it; a GET falls back", {
    timeout: 20_000,
  }, async () => {
    const name = uniqueName("hangwrites");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.hang);
    await patch(name, "2.0.0", { canaryPercent: 50 });
    const [postId, getId] = canaryIds(name, 2) as [string, string];

    const post = await timed(
      `/services/${name}/orders`,
      { method: "POST", headers: { "x-request-id": postId }, body: '{"order":1}' },
      500,
    );
    expect(post.response.status).toBe(504);
    expect(JSON.parse(post.text).error).toMatchObject({ code: "canary_timeout" });
    expect(JSON.parse(post.text).error.message).toContain(`The canary 2.0.0 of ${name} sent no response within`);
    expect(await waitForSeen(origins.hang, postId)).toHaveLength(1);
    await post.settled();
    expect(await seenBy(origins.v1, postId)).toEqual([]);

    const get = await timed(`/services/${name}/orders`, { headers: { "x-request-id": getId } }, 500);
    expect(get.response.status).toBe(200);
    expect(get.response.headers.get("x-origin-version")).toBe("1.0.0");
    await get.settled();
    const getAtMain = await seenBy(origins.v1, getId);
    expect(getAtMain.map(marked)).toEqual([false]);
    expect(await seenBy(origins.hang, getId)).toHaveLength(1);
  });

  it("a canary that drops the connection after reading a POST: 502 naming it, main never sees it; a PUT falls back", {
    timeout: 20_000,
  }, async () => {
    const name = uniqueName("resetwrites");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.reset);
    await patch(name, "2.0.0", { canaryPercent: 50 });
    const [postId, putId] = canaryIds(name, 2) as [string, string];
    const post = await timed(
      `/services/${name}/orders`,
      { method: "POST", headers: { "x-request-id": postId }, body: "{}" },
      2_000,
    );
    expect(post.response.status).toBe(502);
    expect(JSON.parse(post.text).error.code).toBe("canary_failed");
    expect(JSON.parse(post.text).error.message).toContain(`The canary 2.0.0 of ${name} broke off before answering`);
    await post.settled();
    expect(await seenBy(origins.reset, postId)).toHaveLength(1);
    expect(await seenBy(origins.v1, postId)).toEqual([]);

    // PUT is idempotent (RFC 9110 §9.2.2): sending it again has the effect of sending it once.
    const put = await timed(
      `/services/${name}/orders/7`,
      { method: "PUT", headers: { "x-request-id": putId }, body: "{}" },
      2_000,
    );
    expect([put.response.status, put.response.headers.get("x-origin-version")]).toEqual([200, "1.0.0"]);
    await put.settled();
    expect((await seenBy(origins.v1, putId)).map(marked)).toEqual([false]);
  });
});

describe("a canary's circuit breaker", () => {
  it("a canary hanging on its real path while / answers the probe: after 5 timeouts, 20 requests in under 1 s each", {
    timeout: 40_000,
  }, async () => {
    const name = uniqueName("breaker");
    await deploy(name, "1.0.0", origins.v1);
    // Deployed with the check: its / answers, so the probe finds it running.
    const deployed = await gateway("/api/v1/services", {
      method: "POST",
      headers: ADMIN,
      body: JSON.stringify({ name, version: "2.0.0", origin: origins.hang, canaryPercent: 50 }),
    });
    expect(deployed.status).toBe(201);
    expect(((await deployed.json()) as { status: string }).status).toBe("running");
    // Every id is one the canary answers, so without a breaker every request would wait for it.
    const ids = canaryIds(name, 25);
    for (const id of ids.slice(0, 5)) {
      const slow = await timed(`/services/${name}/item`, { headers: { "x-request-id": id } }, 1_500);
      expect([slow.response.status, slow.response.headers.get("x-origin-version")]).toEqual([200, "1.0.0"]);
      expect(slow.ms).toBeGreaterThanOrEqual(1_500);
    }
    for (const id of ids.slice(5)) {
      const fast = await timed(`/services/${name}/item`, { headers: { "x-request-id": id } }, 1_500);
      expect([fast.response.status, fast.response.headers.get("x-origin-version")]).toEqual([200, "1.0.0"]);
      expect(fast.ms, id).toBeLessThan(1_000);
    }
    // The held requests are the canary's `down`, as a paused shadow's are: evidence against it.
    const shadow = await shadowReport(name, "2.0.0", 25);
    expect([shadow.requests.error, shadow.requests.down, shadow.requests.canary]).toEqual([5, 20, 5]);
  });

  it("a canary answering 503 to everyone: its users get 5 of its answers, then main's", {
    timeout: 20_000,
  }, async () => {
    const name = uniqueName("breaker5xx");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v3);
    await patch(name, "2.0.0", { canaryPercent: 50 });
    const statuses: number[] = [];
    for (const id of canaryIds(name, 15)) {
      const response = await gateway(`/services/${name}/item`, { headers: { "x-request-id": id } });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    // A canary's HTTP answer is its answer, a 5xx too; 5 in a row and main answers its share for a while.
    expect(statuses).toEqual([...Array(5).fill(503), ...Array(10).fill(200)]);
  });
});

/** Polls until an origin has recorded `count` requests of a name. */
async function waitForSeenAll(origin: string, name: string, count: number): Promise<RecordedRequest[]> {
  const deadline = Date.now() + 6_000;
  for (;;) {
    const seen = await requestsAt(origin, name);
    if (seen.length >= count || Date.now() > deadline) return seen;
    await sleep(50);
  }
}

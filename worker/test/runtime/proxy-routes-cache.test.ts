import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { deploy, GATEWAY, gateway, uniqueName, withVars } from "./proxy-helpers.ts";

const origins = inject("origins");

/** Which version answered a request made under the given cache TTL. */
async function mainAt(name: string, ttlMs: number): Promise<string | null> {
  const request = new Request(`${GATEWAY}/services/${name}/`);
  const { response } = await withVars({ ROUTES_CACHE_TTL_MS: String(ttlMs) }, request);
  await response.body?.cancel();
  return response.headers.get("x-origin-version");
}

/** An assign written straight through the coordinator, as another isolate's admin call would land: this isolate's cache is not told. */
async function assignBehindTheCache(name: string, version: string) {
  const outcome = await env.SERVICE_COORDINATOR.getByName(name).assign(name, version, false, "admin-token");
  expect(outcome.ok).toBe(true);
}

describe("route cache", () => {
  it("sends new requests to the new main within ROUTES_CACHE_TTL_MS of an assign", async () => {
    const ttlMs = 2_000;
    const name = uniqueName("ttl");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    expect(await mainAt(name, ttlMs)).toBe("1.0.0");

    await assignBehindTheCache(name, "2.0.0");
    const assignedAt = Date.now();
    // Within the TTL this isolate may still use its lookup: the bound is documented, not zero.
    expect(await mainAt(name, ttlMs)).toBe("1.0.0");

    // When each request was sent, after the assign: a request's own time is the machine's, not the cache's.
    let lastOldSentAfterMs = 0;
    let switched = false;
    while (!switched && Date.now() - assignedAt < 3 * ttlMs) {
      const sentAfterMs = Date.now() - assignedAt;
      switched = (await mainAt(name, ttlMs)) === "2.0.0";
      if (!switched) {
        lastOldSentAfterMs = sentAfterMs;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect(switched).toBe(true);
    // The old main's lookup was cached before the assign, so it is gone for every request sent a TTL after it.
    expect(lastOldSentAfterMs).toBeLessThan(ttlMs);
    for (let i = 0; i < 5; i++) expect(await mainAt(name, ttlMs)).toBe("2.0.0");
  });

  it("reads D1 on every request when ROUTES_CACHE_TTL_MS is 0", async () => {
    const name = uniqueName("nottl");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    expect(await mainAt(name, 0)).toBe("1.0.0");
    await assignBehindTheCache(name, "2.0.0");
    expect(await mainAt(name, 0)).toBe("2.0.0");
  });

  it("forgets a name at once when the assign goes through this isolate's admin API", async () => {
    const name = uniqueName("forget");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    expect(await mainAt(name, 60_000)).toBe("1.0.0");
    const assign = await gateway(`/api/v1/services/${name}/main`, {
      method: "PUT",
      headers: { authorization: "Bearer test-token", "content-type": "application/json" },
      body: JSON.stringify({ version: "2.0.0" }),
    });
    expect(assign.status).toBe(200);
    expect(await mainAt(name, 60_000)).toBe("2.0.0");
  });

  it("serves a killed service as 404 once the TTL has passed", async () => {
    const name = uniqueName("killed");
    await deploy(name, "1.0.0", origins.v1);
    expect(await mainAt(name, 300)).toBe("1.0.0");
    const outcome = await env.SERVICE_COORDINATOR.getByName(name).kill(name, undefined, "admin-token");
    expect(outcome.ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const { response } = await withVars({ ROUTES_CACHE_TTL_MS: "300" }, new Request(`${GATEWAY}/services/${name}/`));
    expect(response.status).toBe(404);
  });
});

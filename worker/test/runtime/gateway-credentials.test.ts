import { describe, expect, inject, it } from "vitest";
import type { Env } from "../../src/env.ts";
import type { RecordedRequest } from "../support/origins.ts";
import { api } from "./admin-client.ts";
import { seenBy, uniqueName, waitForSeen, withVars } from "./proxy-helpers.ts";

// The gateway's own credentials (Access's assertion and cookie, the admin and read tokens) never reach
// an origin, main, shadow or canary; the application's own cookies and Authorization always do.

const origins = inject("origins");
const READ_TOKEN = "read-token-kept-at-the-gateway";
const ASSERTION = "eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6Im9wc0BleGFtcGxlLmNvbSJ9.c2lnbmF0dXJl";
const ACCESS: Partial<Env> = {
  READ_TOKEN,
  ACCESS_TEAM_DOMAIN: "team.cloudflareaccess.test",
  ACCESS_AUD: "aud-tag",
};

async function deployed(name: string, version: string, origin: string, more: Record<string, unknown> = {}) {
  const { status, body } = await api("POST", "/services", { body: { name, version, origin, check: false, ...more } });
  expect(status, JSON.stringify(body)).toBe(201);
  return body;
}

/** One request through the proxy with Access configured and a read token set; its answer and its copies settled. */
async function send(path: string, headers: Record<string, string>) {
  const { response, settled } = await withVars(
    ACCESS,
    new Request(`http://gateway.test${path}`, { headers: new Headers(headers) }),
  );
  const body = (await response.json()) as { version?: string };
  await settled();
  return { status: response.status, version: body.version };
}

/** Every request any of these origins recorded under this id. */
async function everywhere(id: string, ...urls: string[]): Promise<RecordedRequest[]> {
  return (await Promise.all(urls.map((url) => seenBy(url, id)))).flat();
}

const header = (request: RecordedRequest | undefined, name: string) => request?.headers[name];

describe("credentials meant for the gateway", () => {
  it("never reach main, a shadow or a canary; the app's own cookies and Authorization pass untouched", async () => {
    const name = uniqueName("creds");
    await deployed(name, "1.0.0", origins.v1);
    await deployed(name, "2.0.0", origins.v2);
    await deployed(name, "3.0.0", origins.v2, { canaryPercent: 50, canaryKey: "x-user" });
    const gatewayOnly: Record<string, string>[] = [
      { authorization: "Bearer test-token" },
      { authorization: `Bearer ${READ_TOKEN}` },
      { authorization: "bearer   test-token  " },
      { "cf-access-jwt-assertion": ASSERTION },
    ];
    let answeredByCanary = 0;
    const ids: string[] = [];
    for (let user = 0; user < 8; user++) {
      const id = `${name}-${user}`;
      ids.push(id);
      const answer = await send(`/services/${name}/orders`, {
        ...gatewayOnly[user % gatewayOnly.length],
        cookie: `session=abc; CF_Authorization=${ASSERTION}; theme=dark`,
        "x-user": `user-${user}`,
        "x-request-id": id,
      });
      expect(answer.status).toBe(200);
      if (answer.version === "2.0.0") answeredByCanary++;
    }
    expect(answeredByCanary).toBeGreaterThan(0);
    expect(answeredByCanary).toBeLessThan(8);
    for (const id of ids) {
      // Main (its request or the canary's copy), the shadow's copy, and the canary's request or its copy.
      const seen = await everywhere(id, origins.v1, origins.v2);
      expect(seen.length, id).toBeGreaterThanOrEqual(3);
      for (const request of seen) {
        expect(header(request, "authorization"), id).toBeUndefined();
        expect(header(request, "cf-access-jwt-assertion"), id).toBeUndefined();
        expect(header(request, "cookie"), id).toBe("session=abc; theme=dark");
      }
    }

    const own = `${name}-own`;
    const app = { authorization: "Bearer end-user", cookie: "session=abc;theme=dark", "x-user": "user-1" };
    expect((await send(`/services/${name}/orders`, { ...app, "x-request-id": own })).status).toBe(200);
    const seen = await waitForSeen(origins.v2, own, 1);
    for (const request of [...(await seenBy(origins.v1, own)), ...seen]) {
      expect(header(request, "authorization")).toBe("Bearer end-user");
      expect(header(request, "cookie")).toBe("session=abc;theme=dark");
    }
  }, 30_000);

  it("the Access cookie alone leaves no empty Cookie header behind", async () => {
    const name = uniqueName("credcookie");
    await deployed(name, "1.0.0", origins.v1);
    const id = `${name}-1`;
    await send(`/services/${name}/`, { cookie: `CF_Authorization=${ASSERTION}`, "x-request-id": id });
    const [main] = await seenBy(origins.v1, id);
    expect(main).toBeDefined();
    expect(header(main, "cookie")).toBeUndefined();
  });

  it("gives the assertion to a version that opted in, and to no other", async () => {
    const name = uniqueName("credopt");
    await deployed(name, "1.0.0", origins.v1);
    const shadow = await deployed(name, "2.0.0", origins.v2, { forwardAccess: true });
    expect(shadow.forwardAccess).toBe(true);
    const first = `${name}-1`;
    await send(`/services/${name}/`, { "cf-access-jwt-assertion": ASSERTION, "x-request-id": first });
    expect(header((await seenBy(origins.v2, first))[0], "cf-access-jwt-assertion")).toBe(ASSERTION);
    expect(header((await seenBy(origins.v1, first))[0], "cf-access-jwt-assertion")).toBeUndefined();

    const patched = await api("PATCH", `/services/${name}/1.0.0`, { body: { forwardAccess: true } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.forwardAccess).toBe(true);
    const off = await api("PATCH", `/services/${name}/2.0.0`, { body: { forwardAccess: false } });
    expect(off.body.forwardAccess).toBe(false);
    const second = `${name}-2`;
    await send(`/services/${name}/`, { "cf-access-jwt-assertion": ASSERTION, "x-request-id": second });
    expect(header((await seenBy(origins.v1, second))[0], "cf-access-jwt-assertion")).toBe(ASSERTION);
    expect(header((await seenBy(origins.v2, second))[0], "cf-access-jwt-assertion")).toBeUndefined();
  }, 15_000);

  it("refuses a forwardAccess that is not true or false, naming the field", async () => {
    const name = uniqueName("credbad");
    const { status, body } = await api("POST", "/services", {
      body: { name, version: "1.0.0", origin: origins.v1, check: false, forwardAccess: "yes" },
    });
    expect(status).toBe(422);
    expect(body.error).toMatchObject({ code: "invalid_field", field: "forwardAccess" });
  });
});

describe("Access without ADMIN_HOSTNAME", () => {
  const session = async (vars: Partial<Env>, host = "gateway.test") => {
    const request = new Request(`http://${host}/api/v1/session`, { headers: { authorization: "Bearer test-token" } });
    const { response } = await withVars(vars, request);
    return (await response.json()) as { warnings?: string[] };
  };

  it("is a warning in GET /api/v1/session, and none once ADMIN_HOSTNAME is set or Access is off", async () => {
    const warned = await session(ACCESS);
    expect(warned.warnings).toHaveLength(1);
    expect(warned.warnings?.[0]).toContain("ADMIN_HOSTNAME");
    expect((await session({ ...ACCESS, ADMIN_HOSTNAME: "admin.test" }, "admin.test")).warnings).toEqual([]);
    expect((await session({})).warnings).toEqual([]);
  });
});

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { withVars } from "./proxy-helpers.ts";

const READ_TOKEN = "read-token-for-walls";
const GATEWAY = "http://gateway.test/api/v1";

/** An admin API call with READ_TOKEN set, as whichever token is given. */
async function call(method: string, path: string, token: string, body?: unknown) {
  const headers = new Headers({ authorization: `Bearer ${token}` });
  if (body !== undefined) headers.set("content-type", "application/json");
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const request = new Request(`${GATEWAY}${path}`, { method, headers, body: payload });
  const { response, settled } = await withVars({ READ_TOKEN }, request);
  await settled();
  const text = await response.text();
  // Everything answers JSON but the Prometheus exposition.
  const json = response.headers.get("content-type")?.startsWith("application/json");
  return { status: response.status, body: (json ? JSON.parse(text) : { text }) as Record<string, unknown> };
}

interface Document {
  paths: Record<string, Record<string, unknown>>;
}

const name = `reader${crypto.randomUUID().slice(0, 8)}`;
let operations: { method: string; path: string }[] = [];
/** A well-formed replay id (12 hex digits) that no replay has. */
const NO_SUCH_REPLAY = "0123456789ab";

/** Everything a reader could see of the name: its versions and its policy. */
async function stateOfName() {
  const services = await call("GET", `/services?name=${name}`, env.ADMIN_TOKEN ?? "");
  const policy = await call("GET", `/services/${name}/policy`, env.ADMIN_TOKEN ?? "");
  return { services: services.body, policy: policy.body };
}

beforeAll(async () => {
  for (const version of ["1.0.0", "2.0.0"]) {
    const deployed = await call("POST", "/services", "test-token", {
      name,
      version,
      origin: "http://127.0.0.1:1",
      check: false,
    });
    expect(deployed.status).toBe(201);
  }
  // A running rollout, so that its GET routes have something to show the read token.
  const rollout = await call("POST", `/services/${name}/2.0.0/rollout`, "test-token", { steps: [5] });
  expect(rollout.status).toBe(201);
  const doc = (await call("GET", "/openapi.json", READ_TOKEN)).body as unknown as Document;
  operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => ({
      method: method.toUpperCase(),
      path: path.replace("{name}", name).replace("{version}", "2.0.0").replace("{id}", NO_SUCH_REPLAY),
    })),
  );
});

describe("READ_TOKEN", () => {
  it("reads every GET route of the API, and the gate by POST too", async () => {
    const reads = operations.filter((op) => op.method === "GET" || op.path.endsWith("/gate"));
    expect(reads.length).toBeGreaterThanOrEqual(8);
    for (const { method, path } of reads) {
      const { status, body } = await call(method, path, READ_TOKEN);
      // The gate answers 412 while the shadow has no passing verdict, and a replay nobody started 404:
      // answers, not refusals.
      const expected = path.endsWith("/gate") ? 412 : path.includes(NO_SUCH_REPLAY) ? 404 : 200;
      expect(status, `${method} ${path}: ${JSON.stringify(body)}`).toBe(expected);
    }
  });

  it("gets 403 read_only on every write route, and nothing changes", async () => {
    const before = await stateOfName();
    const writes = operations.filter((op) => op.method !== "GET" && !op.path.endsWith("/gate"));
    expect(writes.map((op) => op.method).sort()).toEqual(expect.arrayContaining(["DELETE", "PATCH", "POST", "PUT"]));
    // Bodies that the admin token's call would carry out.
    const bodies: Record<string, unknown> = {
      "POST /services": { name, version: "3.0.0", origin: "http://127.0.0.1:1", check: false },
      [`PUT /services/${name}/main`]: { version: "2.0.0", force: true },
      [`PATCH /services/${name}/2.0.0`]: { mirrorPercent: 5 },
      [`PUT /services/${name}/policy`]: { ignore: ["body.time"] },
    };
    for (const { method, path } of writes) {
      const { status, body } = await call(method, path, READ_TOKEN, bodies[`${method} ${path}`] ?? {});
      expect(status, `${method} ${path}`).toBe(403);
      expect(body, `${method} ${path}`).toMatchObject({ error: { code: "read_only" } });
    }
    expect(await stateOfName()).toEqual(before);
    // The admin token's own call to one of them does change things: the refusal was the token's.
    expect((await call("PATCH", `/services/${name}/2.0.0`, "test-token", { mirrorPercent: 5 })).status).toBe(200);
  });

  it("is named by GET /session, which tells a dashboard to show no write controls", async () => {
    expect((await call("GET", "/session", READ_TOKEN)).body).toEqual({
      actor: "read-token",
      canWrite: false,
      warnings: [],
    });
    expect((await call("GET", "/session", "test-token")).body).toEqual({
      actor: "admin-token",
      canWrite: true,
      warnings: [],
    });
  });

  it("is refused like any wrong token when READ_TOKEN is not set", async () => {
    const request = new Request(`${GATEWAY}/services`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
    const { response } = await withVars({ READ_TOKEN: undefined }, request);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
    await response.body?.cancel();
  });
});

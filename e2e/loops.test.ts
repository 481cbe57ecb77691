import { readFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RecordedRequest, type RunningOrigin, startOrigin } from "../worker/test/support/origins.ts";

// Loops and copies against the gateway from `npm run dev`: its origins lead back to
// itself, directly or through another host name, and real origins count what arrives.

const { gateway } = inject("cliWorld");
const MAX_HOPS = Number(
  /^MAX_HOPS = "(\d+)"/m.exec(readFileSync(join(import.meta.dirname, "..", "wrangler.toml"), "utf8"))?.[1],
);
const suffix = crypto.randomUUID().slice(0, 6);
const names: string[] = [];
let counting: RunningOrigin;

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${gateway.url}/api/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${gateway.token}`, "content-type": "application/json", ...init.headers },
  });

async function deploy(name: string, version: string, origin: string, check = false): Promise<Response> {
  if (!names.includes(name)) names.push(name);
  return api("/services", { method: "POST", body: JSON.stringify({ name, version, origin, check }) });
}

async function deployed(name: string, version: string, origin: string): Promise<void> {
  const response = await deploy(name, version, origin);
  expect(response.status, await response.clone().text()).toBe(201);
}

const seenBy = async (origin: RunningOrigin, id: string): Promise<RecordedRequest[]> =>
  (await fetch(`${origin.url}/__requests?id=${encodeURIComponent(id)}`)).json() as Promise<RecordedRequest[]>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Another host in front of the gateway: passes every GET on to `target` + path, and counts them. */
async function startRelay(target: () => string) {
  let passed = 0;
  const server: Server = createServer(async (req, res) => {
    passed++;
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) {
      // Hop-by-hop and encoding headers stay behind: the relay sends the body on decoded.
      if (!["host", "connection", "accept-encoding"].includes(key) && typeof value === "string")
        headers.set(key, value);
    }
    const answer = await fetch(`${target()}${req.url ?? "/"}`, { method: req.method, headers }).catch(() => undefined);
    const body = answer ? Buffer.from(await answer.arrayBuffer()) : Buffer.alloc(0);
    const answered: Record<string, string> = {};
    for (const [key, value] of answer?.headers ?? []) {
      if (!["content-encoding", "content-length", "transfer-encoding", "connection"].includes(key))
        answered[key] = value;
    }
    res.writeHead(answer?.status ?? 502, answered);
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    passed: () => passed,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
const relays: Awaited<ReturnType<typeof startRelay>>[] = [];
const relayTo = async (target: () => string) => {
  const relay = await startRelay(target);
  relays.push(relay);
  return relay;
};

/** A request Node's fetch refuses to send: a GET or HEAD with a body. */
function rawRequest(path: string, method: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(`${gateway.url}${path}`, { method, headers }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

beforeAll(async () => {
  expect(MAX_HOPS).toBeGreaterThan(0);
  counting = await startOrigin({ version: "counting" });
});

afterAll(async () => {
  for (const name of names) {
    const { services } = (await (await api(`/services/${name}`)).json()) as { services?: { version: string }[] };
    // Shadows first, main last, as the kill rules want.
    for (const { version } of [...(services ?? [])].reverse()) {
      await api(`/services/${name}/${version}`, { method: "DELETE" });
    }
  }
  await Promise.all(relays.map((relay) => relay.close()));
  await counting?.close();
});

describe("shadow copies never turn into traffic", () => {
  it("a shadow whose origin is the gateway's own /services/<name>: main gets one unmarked request", async () => {
    const name = `amp${suffix}`;
    await deployed(name, "1.0.0", counting.url);
    await deployed(name, "2.0.0", `${gateway.url}/services/${name}`);
    const id = `${name}-order`;
    const response = await fetch(`${gateway.url}/services/${name}/orders`, {
      method: "POST",
      headers: { "x-request-id": id, "content-type": "application/json" },
      body: JSON.stringify({ charge: 100 }),
    });
    expect(response.status).toBe(200);
    // Copies arrive in the background; wait for them to settle.
    const deadline = Date.now() + 1_500;
    while ((await seenBy(counting, id)).length < 2 && Date.now() < deadline) await sleep(50);
    await sleep(1_000);
    const seen = await seenBy(counting, id);
    expect(seen.filter((r) => r.headers["x-daeploy-shadow"] === undefined)).toHaveLength(1);
    // The copy itself reaches main once, still marked, so main can tell it is not real.
    expect(seen.filter((r) => r.headers["x-daeploy-shadow"] === "1")).toHaveLength(1);
    expect(seen).toHaveLength(2);
  });

  it("removes a marker a client forged: main sees no X-Daeploy-Shadow", async () => {
    const name = `forge${suffix}`;
    await deployed(name, "1.0.0", counting.url);
    const id = `${name}-1`;
    const response = await fetch(`${gateway.url}/services/${name}/`, {
      headers: { "x-request-id": id, "x-daeploy-shadow": "1", "x-daeploy-shadow-proof": "0".repeat(64) },
    });
    expect(response.status).toBe(200);
    const [main] = await seenBy(counting, id);
    expect(main?.headers["x-daeploy-shadow"]).toBeUndefined();
    expect(main?.headers["x-daeploy-shadow-proof"]).toBeUndefined();
  });
});

describe("loops end in 508", () => {
  async function timed(path: string) {
    const started = performance.now();
    const response = await fetch(`${gateway.url}${path}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json()) as { error?: { code: string } };
    return { status: response.status, code: body.error?.code, ms: performance.now() - started };
  }

  it("a main whose origin is its own /services/<name>", async () => {
    const name = `selfloop${suffix}`;
    await deployed(name, "1.0.0", `${gateway.url}/services/${name}`);
    const result = await timed(`/services/${name}/`);
    expect(result).toMatchObject({ status: 508, code: "loop_detected" });
    expect(result.ms).toBeLessThan(2_000);
  });

  it("a self loop through another host passes the gateway at most MAX_HOPS + 1 times, then stops", async () => {
    const name = `relayloop${suffix}`;
    const relay = await relayTo(() => `${gateway.url}/services/${name}`);
    await deployed(name, "1.0.0", relay.url);
    const result = await timed(`/services/${name}/`);
    expect(result).toMatchObject({ status: 508, code: "loop_detected" });
    expect(result.ms).toBeLessThan(2_000);
    // The client's request, plus one arrival per pass through the relay.
    const arrivals = 1 + relay.passed();
    expect(arrivals).toBeGreaterThan(1);
    expect(arrivals).toBeLessThanOrEqual(MAX_HOPS + 1);
    await sleep(500);
    expect(1 + relay.passed()).toBe(arrivals);
  });

  it("an A↔B cycle, directly and through other hosts", async () => {
    const [a, b] = [`cyclea${suffix}`, `cycleb${suffix}`];
    await deployed(a, "1.0.0", `${gateway.url}/services/${b}`);
    await deployed(b, "1.0.0", `${gateway.url}/services/${a}`);
    for (const path of [`/services/${a}/`, `/services/${b}/x`]) {
      const result = await timed(path);
      expect(result, path).toMatchObject({ status: 508, code: "loop_detected" });
      expect(result.ms, path).toBeLessThan(2_000);
    }

    const [c, d] = [`cyclec${suffix}`, `cycled${suffix}`];
    const toD = await relayTo(() => `${gateway.url}/services/${d}`);
    const toC = await relayTo(() => `${gateway.url}/services/${c}`);
    await deployed(c, "1.0.0", toD.url);
    await deployed(d, "1.0.0", toC.url);
    const result = await timed(`/services/${c}/`);
    expect(result).toMatchObject({ status: 508, code: "loop_detected" });
    expect(result.ms).toBeLessThan(2_000);
    const arrivals = 1 + toD.passed() + toC.passed();
    expect(arrivals).toBeGreaterThan(2);
    expect(arrivals).toBeLessThanOrEqual(MAX_HOPS + 1);
  });
});

describe("deploy refuses an origin that leads back to the gateway", () => {
  it("by its own URL, any path, or another host name: 422 origin_loop naming origin", async () => {
    const name = `refused${suffix}`;
    const relay = await relayTo(() => gateway.url);
    const origins = [
      gateway.url,
      `${gateway.url}/services/${name}`,
      `${gateway.url}/api/v1/services`,
      `${gateway.url}/dashboard`,
      gateway.url.replace("127.0.0.1", "localhost"),
      relay.url,
    ];
    for (const origin of origins) {
      const response = await deploy(name, "1.0.0", origin, true);
      expect(response.status, origin).toBe(422);
      expect(await response.json(), origin).toMatchObject({ error: { code: "origin_loop", field: "origin" } });
    }
    expect((await api(`/services/${name}`)).status).toBe(404);
  });

  it("the second half of an A↔B cycle", async () => {
    const [a, b] = [`deploya${suffix}`, `deployb${suffix}`];
    await deployed(a, "1.0.0", `${gateway.url}/services/${b}`);
    const response = await deploy(b, "1.0.0", `${gateway.url}/services/${a}`, true);
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ error: { code: "origin_loop", field: "origin" } });
  });

  it("but takes a real origin", async () => {
    const response = await deploy(`fine${suffix}`, "1.0.0", counting.url, true);
    expect(response.status, await response.clone().text()).toBe(201);
  });
});

describe("bad requests are the client's", () => {
  it("answers GET and HEAD with a body 400 body_not_allowed, and contacts no origin", async () => {
    const name = `getbody${suffix}`;
    await deployed(name, "1.0.0", counting.url);
    // A chunked GET body is dropped by workerd before the Worker sees it, so only declared lengths are tested.
    const cases = [
      { method: "GET", headers: { "content-length": "5" } },
      { method: "HEAD", headers: { "content-length": "5" } },
    ];
    for (const [i, { method, headers }] of cases.entries()) {
      const id = `${name}-${i}`;
      const result = await rawRequest(`/services/${name}/`, method, { ...headers, "x-request-id": id }, "hello");
      expect(result.status, `${method} ${JSON.stringify(headers)}`).toBe(400);
      if (method === "GET") expect(JSON.parse(result.body)).toMatchObject({ error: { code: "body_not_allowed" } });
      expect(await seenBy(counting, id)).toEqual([]);
    }
    // Without a body the same requests go through.
    const plain = await rawRequest(`/services/${name}/`, "GET", { "x-request-id": `${name}-plain` }, "");
    expect(plain.status).toBe(200);
    expect(await seenBy(counting, `${name}-plain`)).toHaveLength(1);
  });
});

import { afterEach, describe, expect, inject, it, vi } from "vitest";
import type { Env } from "../../src/env.ts";
import type { MirrorLog, ShadowOutcome } from "../../src/proxy/mirror.ts";
import type { RecordedRequest } from "../support/origins.ts";
import { decodeBase64, deploy, GATEWAY, gateway, seenBy, uniqueName, waitForSeen, withVars } from "./proxy-helpers.ts";

const origins = inject("origins");

/** Every byte value, so nothing in the path may treat the body as text. */
const binaryBody = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 7 + 3) % 256);

/** A body sent as a stream without Content-Length, one chunk at a time. */
function chunkedStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[next++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

/** The headers a shadow must share with main: all but Host (each origin has its own) and the marker. */
function comparableHeaders(seen: RecordedRequest | undefined) {
  const { host: _host, "x-daeploy-shadow": _marker, "x-daeploy-shadow-proof": _proof, ...rest } = seen?.headers ?? {};
  return rest;
}

type LoggedOutcome = ShadowOutcome & { name: string; requestId: string };

/** Captures the worker's structured mirror lines, one outcome per shadow copy. */
function captureShadowLog() {
  const lines: LoggedOutcome[] = [];
  const raw: MirrorLog[] = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    if (typeof line !== "string") return;
    try {
      const parsed = JSON.parse(line) as Partial<MirrorLog>;
      if (parsed.event !== "mirror" || !parsed.name || !parsed.requestId) return;
      raw.push(parsed as MirrorLog);
      for (const outcome of parsed.shadows ?? []) {
        lines.push({ ...outcome, name: parsed.name, requestId: parsed.requestId });
      }
    } catch {
      // not one of ours
    }
  });
  return {
    of: (requestId: string) => lines.filter((line) => line.requestId === requestId),
    linesOf: (requestId: string) => raw.filter((line) => line.requestId === requestId),
    async waitFor(requestId: string, count: number, withinMs = 5_000) {
      const deadline = Date.now() + withinMs;
      while (this.of(requestId).length < count && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return this.of(requestId);
    },
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("mirroring", () => {
  it("gives every shadow the same method, path, query, headers and body bytes, marked as a shadow", async () => {
    const name = uniqueName("same");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    await deploy(name, "3.0.0", `${origins.v3}/`);
    const id = `${name}-same`;
    const body = binaryBody(4096);
    const response = await gateway(`/services/${name}/orders/42?expand=items&x=%20y`, {
      method: "POST",
      headers: { "x-request-id": id, "content-type": "application/octet-stream", "x-tenant": "acme" },
      body,
    });
    expect(response.status).toBe(200);
    const [main] = await seenBy(origins.v1, id);
    const shadows = [(await waitForSeen(origins.v2, id))[0], (await waitForSeen(origins.v3, id))[0]];
    expect(main?.headers["x-daeploy-shadow"]).toBeUndefined();
    expect(decodeBase64(main?.bodyBase64 ?? "")).toEqual(body);
    for (const shadow of shadows) {
      expect(shadow?.method).toBe("POST");
      expect(shadow?.url).toBe("/orders/42?expand=items&x=%20y");
      expect(shadow?.headers["x-daeploy-shadow"]).toBe("1");
      expect(shadow?.headers["x-daeploy-shadow-proof"]).toMatch(/^\d+\.[0-9a-f]{64}$/);
      expect(comparableHeaders(shadow)).toEqual(comparableHeaders(main));
      expect(shadow?.bodyBase64).toBe(main?.bodyBase64);
    }
  });

  it("mirrors a chunked body within the cap, byte for byte", async () => {
    const name = uniqueName("chunked");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const id = `${name}-chunked`;
    const chunks = [binaryBody(1000), binaryBody(3000), binaryBody(10)];
    const response = await gateway(`/services/${name}/upload`, {
      method: "PUT",
      headers: { "x-request-id": id },
      body: chunkedStream(chunks),
    });
    expect(await response.json()).toMatchObject({ version: "1.0.0", bytes: 4010 });
    const [shadow] = await waitForSeen(origins.v2, id);
    const [main] = await seenBy(origins.v1, id);
    expect(shadow?.bodyBase64).toBe(main?.bodyBase64);
    expect(decodeBase64(shadow?.bodyBase64 ?? "")).toEqual(new Uint8Array(chunks.flatMap((c) => [...c])));
  });

  it("does not let a 3-second shadow delay main", async () => {
    const name = uniqueName("slowshadow");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.slow);
    const id = `${name}-slow`;
    const started = Date.now();
    const response = await gateway(`/services/${name}/`, { headers: { "x-request-id": id } });
    await response.text();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(response.headers.get("x-origin-version")).toBe("1.0.0");
    // The shadow did get its copy, concurrently with main.
    expect(await waitForSeen(origins.slow, id)).toHaveLength(1);
  });

  it("shrugs off a dead, a 5xx and a resetting shadow, and logs each outcome", async () => {
    const log = captureShadowLog();
    const name = uniqueName("bad");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.dead);
    await deploy(name, "3.0.0", origins.v3);
    await deploy(name, "4.0.0", origins.reset);
    const id = `${name}-bad`;
    const started = Date.now();
    const response = await gateway(`/services/${name}/work`, {
      method: "POST",
      headers: { "x-request-id": id },
      body: "payload",
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ version: "1.0.0", method: "POST", url: "/work", bytes: 7 });
    expect(Date.now() - started).toBeLessThan(1_000);
    const lines = await log.waitFor(id, 3);
    const byVersion = Object.fromEntries(lines.map((line) => [line.version, line]));
    expect(byVersion["2.0.0"]).toMatchObject({ name, error: expect.any(String) });
    expect(byVersion["3.0.0"]).toMatchObject({ name, status: 503 });
    expect(byVersion["4.0.0"]).toMatchObject({ name, error: expect.any(String) });
    for (const line of lines) expect(line.ms).toBeGreaterThanOrEqual(0);
    // All of one request's outcomes travel in one log line.
    expect(log.linesOf(id)).toHaveLength(1);
    expect(await waitForSeen(origins.reset, id)).toHaveLength(1);
  });

  it("logs by default only requests where a copy needs attention, and every request with MIRROR_LOG=all", async () => {
    const log = captureShadowLog();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const name = uniqueName("logmode");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const send = async (id: string, vars: Partial<Env> = {}) => {
      const request = new Request(`${GATEWAY}/services/${name}/`, { headers: { "x-request-id": id } });
      const { response, settled } = await withVars(vars, request);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      await settled();
      // The copy did go out: the log is the only thing that differs.
      expect(await waitForSeen(origins.v2, id)).toHaveLength(1);
      return log.linesOf(id);
    };
    expect(await send(`${name}-clean`)).toEqual([]);
    expect(await send(`${name}-all`, { MIRROR_LOG: "all" })).toEqual([
      expect.objectContaining({ shadows: [expect.objectContaining({ version: "2.0.0", status: 200 })] }),
    ]);
    // A value it does not know is said once in a warning, and the default holds.
    expect(await send(`${name}-typo`, { MIRROR_LOG: "everything" })).toEqual([]);
    expect(warn.mock.calls.map(([line]) => JSON.parse(String(line)))).toContainEqual(
      expect.objectContaining({ event: "config_invalid", variable: "MIRROR_LOG", value: "everything" }),
    );

    // A shadow that fails gets its line under the default, naming every shadow's outcome.
    await deploy(name, "3.0.0", origins.dead);
    const id = `${name}-failing`;
    const request = new Request(`${GATEWAY}/services/${name}/`, { headers: { "x-request-id": id } });
    const { response, settled } = await withVars({}, request);
    await response.arrayBuffer();
    await settled();
    const lines = log.linesOf(id);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.shadows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ version: "2.0.0", status: 200 }),
        expect.objectContaining({ version: "3.0.0", error: expect.any(String) }),
      ]),
    );
  });

  it("abandons a shadow after SHADOW_TIMEOUT_MS", async () => {
    const log = captureShadowLog();
    const name = uniqueName("shadowtimeout");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.slow);
    const id = `${name}-timeout`;
    const request = new Request(`${GATEWAY}/services/${name}/`, { headers: { "x-request-id": id } });
    const started = Date.now();
    const { response, settled } = await withVars({ SHADOW_TIMEOUT_MS: "200" }, request);
    expect(response.status).toBe(200);
    await settled();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(log.of(id)).toEqual([expect.objectContaining({ version: "2.0.0", error: "timed out after 200 ms" })]);
  });
});

describe("main failures", () => {
  it("answers 502 JSON at once when main is unreachable, and still mirrors", async () => {
    const name = uniqueName("deadmain");
    await deploy(name, "1.0.0", origins.dead);
    await deploy(name, "2.0.0", origins.v2);
    const id = `${name}-dead`;
    const started = Date.now();
    const response = await gateway(`/services/${name}/x`, { headers: { "x-request-id": id } });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: "origin_unreachable" } });
    expect(await waitForSeen(origins.v2, id)).toHaveLength(1);
  });

  it("answers 504 JSON when main sends no headers within ORIGIN_TIMEOUT_MS, never a shadow's answer", async () => {
    const name = uniqueName("slowmain");
    await deploy(name, "1.0.0", origins.slow);
    await deploy(name, "2.0.0", origins.v2);
    const id = `${name}-504`;
    const request = new Request(`${GATEWAY}/services/${name}/x`, { headers: { "x-request-id": id } });
    const started = Date.now();
    const { response } = await withVars({ ORIGIN_TIMEOUT_MS: "300" }, request);
    const elapsed = Date.now() - started;
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: { code: "origin_timeout" } });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2_000);
    expect(await waitForSeen(origins.v2, id)).toHaveLength(1);
  });
});

describe("request bodies and the mirror cap", () => {
  it("streams a body declared over the cap to main intact, and mirrors nothing", async () => {
    const log = captureShadowLog();
    const name = uniqueName("big");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const id = `${name}-big`;
    const body = binaryBody(1024 * 1024 + 512 * 1024); // over the 1 MiB default
    const response = await gateway(`/services/${name}/upload`, {
      method: "POST",
      headers: { "x-request-id": id },
      body,
    });
    expect(await response.json()).toMatchObject({ version: "1.0.0", bytes: body.length });
    const [main] = await seenBy(origins.v1, id);
    expect(decodeBase64(main?.bodyBase64 ?? "")).toEqual(body);
    expect(log.of(id)).toEqual([{ version: "2.0.0", skipped: "body too large", name, requestId: id }]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await seenBy(origins.v2, id)).toEqual([]);
  });

  it("replays a chunked stream that grows past the cap to main, in order, and mirrors nothing", async () => {
    const log = captureShadowLog();
    const name = uniqueName("grows");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const id = `${name}-grows`;
    const chunks = Array.from({ length: 10 }, (_, i) => new Uint8Array(1000).fill(i + 1));
    const request = new Request(`${GATEWAY}/services/${name}/upload`, {
      method: "POST",
      headers: { "x-request-id": id },
      body: chunkedStream(chunks),
    });
    const { response, settled } = await withVars({ MIRROR_MAX_BODY_BYTES: "2500" }, request);
    expect(await response.json()).toMatchObject({ version: "1.0.0", bytes: 10_000 });
    await settled();
    const [main] = await seenBy(origins.v1, id);
    expect(decodeBase64(main?.bodyBase64 ?? "")).toEqual(new Uint8Array(chunks.flatMap((c) => [...c])));
    expect(log.of(id)).toEqual([{ version: "2.0.0", skipped: "body too large", name, requestId: id }]);
    expect(await seenBy(origins.v2, id)).toEqual([]);
  });

  it("mirrors a body of exactly the cap", async () => {
    const name = uniqueName("atcap");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const id = `${name}-atcap`;
    const body = binaryBody(2500);
    const request = new Request(`${GATEWAY}/services/${name}/upload`, {
      method: "POST",
      headers: { "x-request-id": id },
      body: chunkedStream([body.subarray(0, 2000), body.subarray(2000)]),
    });
    const { response, settled } = await withVars({ MIRROR_MAX_BODY_BYTES: "2500" }, request);
    expect(response.status).toBe(200);
    await settled();
    const [shadow] = await seenBy(origins.v2, id);
    expect(decodeBase64(shadow?.bodyBase64 ?? "")).toEqual(body);
  });
});

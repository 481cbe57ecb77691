import { describe, expect, inject, it } from "vitest";
import { isSampled, noiseBucket } from "../../src/proxy/sampling.ts";
import { deploy, GATEWAY, gateway, seenBy, uniqueName, waitForSeen, withVars } from "./proxy-helpers.ts";

const origins = inject("origins");

describe("routing by whole segment", () => {
  it("answers with main's status, headers and body", async () => {
    const name = uniqueName("answer");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const response = await gateway(`/services/${name}/hello`, { headers: { "x-request-id": `${name}-1` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-origin-version")).toBe("1.0.0");
    expect(await response.json()).toEqual({ version: "1.0.0", method: "GET", url: "/hello", bytes: 0 });
  });

  it("sends /services/<name> and /services/<name>/ to the origin's root, and keeps the rest", async () => {
    const name = uniqueName("slash");
    await deploy(name, "1.0.0", origins.v1);
    const paths = { [`/services/${name}`]: "/", [`/services/${name}/`]: "/", [`/services/${name}/a/b/`]: "/a/b/" };
    for (const [path, expected] of Object.entries(paths)) {
      const body = await (await gateway(path)).json();
      expect(body, path).toMatchObject({ version: "1.0.0", url: expected });
    }
    expect(await (await gateway(`/services/${name}?page=2`)).json()).toMatchObject({ url: "/?page=2" });
  });

  it("forwards the path and query exactly as the client encoded them", async () => {
    const name = uniqueName("raw");
    await deploy(name, "1.0.0", origins.v1);
    const body = await (await gateway(`/services/${name}/a%2Fb/c%20d?q=%2F&flag&sum=1+2`)).json();
    expect(body).toMatchObject({ url: "/a%2Fb/c%20d?q=%2F&flag&sum=1+2" });
  });

  it("prefixes the origin's base path", async () => {
    const name = uniqueName("base");
    await deploy(name, "1.0.0", `${origins.v1}/base/api/`);
    expect(await (await gateway(`/services/${name}/items?x=1`)).json()).toMatchObject({ url: "/base/api/items?x=1" });
    expect(await (await gateway(`/services/${name}`)).json()).toMatchObject({ url: "/base/api/" });
  });

  it("never lets foo reach foobar or foo_bar, nor a pinned foo version reach foo_bar", async () => {
    const foo = uniqueName("foo");
    await deploy(foo, "1.0.0", origins.v1);
    await deploy(`${foo}bar`, "1.0.0", origins.v2);
    await deploy(`${foo}_bar`, "1.0.0", origins.v3);
    const versionAt = async (path: string) => (await gateway(path)).headers.get("x-origin-version");
    expect(await versionAt(`/services/${foo}/x`)).toBe("1.0.0");
    expect(await versionAt(`/services/${foo}bar/x`)).toBe("2.0.0");
    expect(await versionAt(`/services/${foo}_bar/x`)).toBe("3.0.0");
    expect(await versionAt(`/services/${foo}_1.0.0/x`)).toBe("1.0.0");
    expect(await versionAt(`/services/${foo}_bar_1.0.0/x`)).toBe("3.0.0");
    for (const missing of [`${foo}b`, `${foo.slice(0, -1)}`, `${foo}_`, `${foo}_2.0.0`, `${foo}barx`]) {
      const response = await gateway(`/services/${missing}/x`);
      expect(response.status, missing).toBe(404);
    }
  });

  it("answers an unknown service with 404 JSON", async () => {
    for (const path of ["/services/nosuchservice/", "/services/", "/services/Bad%ZZ/x", "/services/a_1.0.0"]) {
      const response = await gateway(path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get("content-type")).toContain("application/json");
      expect((await response.json()) as unknown, path).toMatchObject({ error: { code: "service_not_found" } });
    }
  });

  it("answers a version the name does not have with 404 naming the versions it has", async () => {
    const name = uniqueName("ver");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "1.1.0", origins.v2);
    const response = await gateway(`/services/${name}_9.9.9/x`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: {
        code: "service_not_found",
        message: `${name} has no version 9.9.9; its versions are 1.0.0, 1.1.0 (/services/${name}_<version>/, or /services/${name}/ for main)`,
      },
    });
    // A name that does not exist at all is still just "no service".
    const unknown = await gateway(`/services/${name}x_1.0.0/`);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toBe(
      `No service at /services/${name}x_1.0.0`,
    );
  });

  it("sends a pinned path to that version only, without mirroring", async () => {
    const name = uniqueName("pin");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const id = `${name}-pinned`;
    const response = await gateway(`/services/${name}_2.0.0/only?x=1`, { headers: { "x-request-id": id } });
    expect(await response.json()).toMatchObject({ version: "2.0.0", url: "/only?x=1" });
    const group = await gateway(`/services/${name}/group`, { headers: { "x-request-id": `${id}-group` } });
    expect(group.headers.get("x-origin-version")).toBe("1.0.0");
    // Once the group request's shadow copy reached v2, the pinned one would have arrived at v1 long before.
    await waitForSeen(origins.v2, `${id}-group`);
    expect(await seenBy(origins.v1, id)).toEqual([]);
    const [pinned] = await seenBy(origins.v2, id);
    expect(pinned?.headers["x-daeploy-shadow"]).toBeUndefined();
    expect(pinned?.headers["x-forwarded-prefix"]).toBe(`/services/${name}_2.0.0`);
  });
});

describe("forwarded request", () => {
  it("keeps the method, drops hop-by-hop headers and adds X-Forwarded-*", async () => {
    const name = uniqueName("hdr");
    await deploy(name, "1.0.0", origins.v1);
    const id = `${name}-hdr`;
    const response = await gateway(`/services/${name}/things/7`, {
      method: "PATCH",
      headers: {
        "x-request-id": id,
        "x-custom": "kept",
        authorization: "Bearer end-user",
        connection: "keep-alive, x-private-hop",
        "x-private-hop": "secret",
        "keep-alive": "timeout=5",
        "proxy-authorization": "Basic Zm9vOmJhcg==",
        te: "trailers",
        "x-forwarded-for": "198.51.100.1",
        "cf-connecting-ip": "203.0.113.7",
        "x-daeploy-shadow": "1",
      },
      body: "patch",
    });
    expect(await response.json()).toMatchObject({ method: "PATCH", bytes: 5 });
    const [seen] = await seenBy(origins.v1, id);
    const headers = seen?.headers ?? {};
    expect(headers["x-custom"]).toBe("kept");
    expect(headers.authorization).toBe("Bearer end-user");
    expect(headers["x-private-hop"]).toBeUndefined();
    expect(headers["keep-alive"]).toBeUndefined();
    expect(headers["proxy-authorization"]).toBeUndefined();
    expect(headers.te).toBeUndefined();
    expect(headers["x-forwarded-for"]).toBe("198.51.100.1, 203.0.113.7");
    expect(headers["x-forwarded-proto"]).toBe("https");
    expect(headers["x-forwarded-host"]).toBe(new URL(GATEWAY).host);
    expect(headers["x-forwarded-prefix"]).toBe(`/services/${name}`);
    // A client cannot make main believe it is a shadow.
    expect(headers["x-daeploy-shadow"]).toBeUndefined();
  });

  it("generates one X-Request-Id when the client sent none, shared by main and its shadows", async () => {
    const name = uniqueName("rid");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const marker = crypto.randomUUID();
    await gateway(`/services/${name}/?marker=${marker}`);
    const find = async (origin: string) =>
      ((await seenBy(origin, "")) as { url: string; headers: Record<string, unknown> }[]).find((r) =>
        r.url.includes(marker),
      );
    const main = await find(origins.v1);
    const id = main?.headers["x-request-id"];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await waitForSeen(origins.v2, String(id))).toHaveLength(1);
  });

  it("returns a redirect to the client instead of following it", async () => {
    const name = uniqueName("redir");
    await deploy(name, "1.0.0", origins.redirect);
    // The test's own fetch must not follow it either, or it would see where the redirect leads.
    const response = await gateway(`/services/${name}/old`, { redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/elsewhere");
  });
});

describe("streaming and upgrades", () => {
  async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string, withinMs: number) {
    const decoder = new TextDecoder();
    let received = "";
    const deadline = Date.now() + withinMs;
    while (!received.includes(text)) {
      const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), deadline - Date.now()));
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk === "timeout") throw new Error(`"${text}" did not arrive within ${withinMs} ms; got ${received}`);
      if (chunk.done) break;
      received += decoder.decode(chunk.value, { stream: true });
    }
    return received;
  }

  it("streams server-sent events: the first event arrives before the origin sends the second", async () => {
    const name = uniqueName("sse");
    await deploy(name, "1.0.0", origins.sse);
    await deploy(name, "2.0.0", origins.v2);
    // An id whose request also sends main a noise copy (5 % of ids by default): that copy carries the same id and
    // waits on the origin beside the client's stream, which once left the client's stream unreleased.
    let n = 0;
    while (!isSampled(noiseBucket(`${name}-sse-${n}`), 5)) n++;
    const id = `${name}-sse-${n}`;
    const response = await gateway(`/services/${name}/events`, { headers: { "x-request-id": id } });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    // The origin holds the second event until released, so a buffering proxy would never deliver the first.
    const first = await readUntil(reader, "data: first", 2_000);
    expect(first).not.toContain("second");
    await fetch(`${origins.sse}/__release?id=${id}`);
    expect(await readUntil(reader, "data: second", 2_000)).toContain("data: second");
  });

  it("bounds only the wait for headers: a stream longer than ORIGIN_TIMEOUT_MS is not cut", async () => {
    const name = uniqueName("ssetimeout");
    await deploy(name, "1.0.0", origins.sse);
    const id = `${name}-long`;
    const request = new Request(`${GATEWAY}/services/${name}/events`, { headers: { "x-request-id": id } });
    const { response } = await withVars({ ORIGIN_TIMEOUT_MS: "300" }, request);
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await readUntil(reader, "data: first", 2_000);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await fetch(`${origins.sse}/__release?id=${id}`);
    expect(await readUntil(reader, "data: second", 2_000)).toContain("data: second");
  });

  it("sends a WebSocket upgrade to main only and relays its messages", async () => {
    const name = uniqueName("ws");
    await deploy(name, "1.0.0", origins.ws);
    await deploy(name, "2.0.0", origins.v2);
    const id = `${name}-ws`;
    const response = await gateway(`/services/${name}/socket`, {
      headers: { upgrade: "websocket", "x-request-id": id },
    });
    expect(response.status).toBe(101);
    const socket = response.webSocket;
    if (!socket) throw new Error("no WebSocket in the 101 response");
    socket.accept();
    const reply = new Promise<string>((resolve) => {
      socket.addEventListener("message", (event) => resolve(String(event.data)));
    });
    socket.send("hello");
    expect(await reply).toBe("ws: hello");
    socket.close(1000, "done");
    const [upgrade] = await seenBy(origins.ws, id);
    expect(upgrade?.url).toBe("/socket");
    // A follow-up mirrored request proves shadows are being served; the upgrade never reached them.
    await gateway(`/services/${name}/after`, { headers: { "x-request-id": `${id}-after` } });
    await waitForSeen(origins.v2, `${id}-after`);
    expect(await seenBy(origins.v2, id)).toEqual([]);
  });
});

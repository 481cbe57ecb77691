import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { freePort } from "../../../scripts/ports.ts";
import { compareLabAnswer } from "./compare-lab.ts";
import { LEAKED } from "./leaks.ts";

export { deadPort } from "../../../scripts/ports.ts";

/** What an origin saw of one request, as the tests compare it. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  bodyBase64: string;
  receivedAt: number;
}

export interface OriginBehaviour {
  /** Version reported in every answer, so a test can tell who answered. */
  version: string;
  /** Delay before the response headers are sent. */
  delayMs?: number;
  /** Status of every answer. */
  status?: number;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
  /** Answer `/` (the health probe) at once, and hold every other path for this long before answering. */
  hangMs?: number;
  /** Answer every request with a 302 to this location. */
  redirectTo?: string;
  /**
   * Answer with a server-sent event stream: one event at once, the second
   * only after GET /__release?id=<x-request-id>, then the end.
   */
  sse?: boolean;
  /** Accept WebSocket upgrades and echo every text message back, prefixed with the version. */
  websocket?: boolean;
  /**
   * Answer as one side of the comparison lab (see `labAnswer`): the same
   * paths on a "main" and a "shadow" lab answer alike or differ in known ways.
   */
  lab?: "main" | "shadow";
  /** Answer as one side of the comparison-rules lab (see compare-lab.ts). */
  compareLab?: "main" | "shadow";
}

export interface RunningOrigin {
  url: string;
  port: number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const record = (req: IncomingMessage, body: Buffer): RecordedRequest => ({
  method: req.method ?? "",
  url: req.url ?? "",
  headers: req.headers,
  bodyBase64: body.toString("base64"),
  receivedAt: Date.now(),
});

/** Releases keyed by request id; a release may arrive before its stream waits for it. */
class Releases {
  // Every request waiting under an id: a gateway's noise copy to main carries the client's request id too.
  readonly #waiting = new Map<string, Set<() => void>>();
  readonly #early = new Set<string>();

  release(id: string): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) {
      this.#early.add(id);
      return;
    }
    for (const done of [...waiting]) done();
  }

  wait(id: string, maxMs: number): Promise<void> {
    if (this.#early.delete(id)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiting = this.#waiting.get(id) ?? new Set<() => void>();
      this.#waiting.set(id, waiting);
      const done = () => {
        waiting.delete(done);
        if (waiting.size === 0) this.#waiting.delete(id);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      waiting.add(done);
    });
  }
}

/** Server-side WebSocket handshake and a text echo; just enough of RFC 6455 for small messages. */
function acceptWebSocket(req: IncomingMessage, socket: Socket, version: string): void {
  const key = req.headers["sec-websocket-key"];
  if (typeof key !== "string") {
    socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    return;
  }
  const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  let pending = Buffer.alloc(0);
  socket.on("data", (data: Buffer) => {
    pending = Buffer.concat([pending, data]);
    while (pending.length >= 2) {
      const opcode = (pending[0] ?? 0) & 0x0f;
      let length = (pending[1] ?? 0) & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (pending.length < 4) return;
        length = pending.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        socket.destroy();
        return;
      }
      // Client frames are always masked.
      if (pending.length < offset + 4 + length) return;
      const mask = pending.subarray(offset, offset + 4);
      const payload = Buffer.from(pending.subarray(offset + 4, offset + 4 + length));
      for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
      pending = pending.subarray(offset + 4 + length);
      if (opcode === 0x8) {
        socket.end(Buffer.from([0x88, 0]));
        return;
      }
      if (opcode === 0x1) {
        const reply = Buffer.from(`${version}: ${payload.toString("utf8")}`);
        if (reply.length > 125) throw new Error("the test echo only sends short frames");
        socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));
      }
    }
  });
  socket.on("error", () => socket.destroy());
}

/** The number at the end of a request's X-Request-Id (`name-17` is 17), or 0. */
function requestNumber(req: IncomingMessage): number {
  const match = /(\d+)$/.exec(String(req.headers["x-request-id"] ?? ""));
  return match?.[1] ? Number(match[1]) : 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let labCounter = 0;
/** Request-id prefixes whose /field answers a lab shadow gets wrong from now on (see `labAnswer`). */
const brokenPrefixes = new Set<string>();

/**
 * The comparison lab. With n the number at the end of X-Request-Id:
 * - /same: identical JSON on both sides;
 * - /field: the shadow's `price` is 2 instead of 1 when n % 10 is 0 (10 % of ids 0…99);
 * - /time: a `time` that differs on every call, on both sides;
 * - /slow: the shadow answers 50 ms later;
 * - /error: the shadow answers 500 when n % 20 is 0 (5 %);
 * - /text: text/plain, the shadow adds "!" when n is even;
 * - /big?bytes=N[&chunked=1]: a JSON document of N bytes, with Content-Length or in 16 KiB chunks;
 * - /download?bytes=N: N bytes of text in 64 KiB chunks, 5 ms apart; GET /__closed-early lists
 *   the ids whose download the gateway hung up on before the end;
 * - /by-id: a map keyed by ids generated afresh on every call (`{"byId": {"u-12-k3j4h5": …}}`);
 * - /time-kinds: a `time` that differs on every call; the shadow drops it when n % 10 is 1 and
 *   sends it as a number when n % 10 is 2;
 * - /wide: 100 fields, every one of which the shadow changes (more differences than are kept);
 * - /mid-body-reset: the shadow sends its headers and half its body, then resets the connection,
 *   when n % 4 is 0 (25 % of ids);
 * - /regions: 78 regions keyed by name under `regions`, every one of which the shadow changes, and
 *   an `id` both agree on (more differences than are kept, all under one subtree);
 * - /clock: a `data` that differs on every call, on both sides (noise on that route);
 * - /orders: a `data` that never changes on main; the shadow's differs when n % 10 is 0 (10 %).
 * A shadow told `POST /__break?prefix=<p>` answers every later /field request whose id starts
 * with p with a wrong price: a version that goes bad mid-step.
 */
async function labAnswer(
  role: "main" | "shadow",
  req: IncomingMessage,
  res: ServerResponse,
  closedEarly: string[],
): Promise<void> {
  const url = new URL(`http://origin${req.url ?? "/"}`);
  const n = requestNumber(req);
  const shadow = role === "shadow";
  const id = String(req.headers["x-request-id"] ?? "");
  const broken = shadow && [...brokenPrefixes].some((prefix) => id.startsWith(prefix));
  const json = (body: unknown, status = 200) => {
    res.writeHead(status, { "content-type": "application/json", "x-lab": role });
    res.end(JSON.stringify(body));
  };
  switch (url.pathname) {
    case "/field":
      return json({ id: n, name: "widget", price: broken || (shadow && n % 10 === 0) ? 2 : 1 });
    case "/time":
      return json({ id: n, time: `${Date.now()}.${++labCounter}`, price: 1 });
    case "/slow":
      if (shadow) await sleep(50);
      return json({ id: n });
    case "/error":
      return shadow && n % 20 === 0 ? json({ error: "boom" }, 500) : json({ id: n });
    case "/text":
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`hello ${n}${shadow && n % 2 === 0 ? "!" : ""}`);
      return;
    case "/big": {
      const bytes = Number(url.searchParams.get("bytes") ?? "0");
      const body = Buffer.from(`{"pad":"${"a".repeat(Math.max(0, bytes - 10))}"}`);
      if (url.searchParams.get("chunked") !== "1") {
        res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
        res.end(body);
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      for (let offset = 0; offset < body.length; offset += 16_384) {
        res.write(body.subarray(offset, offset + 16_384));
        await sleep(1);
      }
      res.end();
      return;
    }
    case "/download": {
      const bytes = Number(url.searchParams.get("bytes") ?? "0");
      const id = String(req.headers["x-request-id"]);
      let finished = false;
      res.on("close", () => {
        if (!finished) closedEarly.push(id);
      });
      res.writeHead(200, { "content-type": "text/plain" });
      const chunk = Buffer.alloc(65_536, "d");
      for (let sent = 0; sent < bytes && !res.destroyed; sent += chunk.length) {
        res.write(chunk);
        await sleep(5);
      }
      finished = !res.destroyed;
      res.end();
      return;
    }
    case "/by-id": {
      const id = () => `u-${Math.floor(Math.random() * 100)}-${Math.random().toString(36).slice(2, 8)}`;
      return json({ byId: Object.fromEntries([1, 2, 3].map((k) => [id(), { price: k, name: `item ${k}` }])) });
    }
    case "/time-kinds": {
      const time = `${Date.now()}.${++labCounter}`;
      if (shadow && n % 10 === 1) return json({ id: n });
      return json({ id: n, time: shadow && n % 10 === 2 ? Number(time) : time });
    }
    case "/wide":
      return json(
        Object.fromEntries(
          Array.from({ length: 100 }, (_, k) => [
            `field_${"abcdefghij"[k % 10]}${"abcdefghij"[Math.floor(k / 10)]}`,
            shadow ? -k : k,
          ]),
        ),
      );
    case "/trickle": {
      // A declared length, the second half of it only after `ms` on main's side.
      const body = Buffer.from(JSON.stringify({ id: n, pad: "t".repeat(2000) }));
      res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
      res.write(body.subarray(0, body.length / 2));
      if (!shadow) await sleep(Number(url.searchParams.get("ms") ?? "0"));
      res.end(body.subarray(body.length / 2));
      return;
    }
    case "/mid-body-reset": {
      const body = Buffer.from(JSON.stringify({ id: n, pad: "p".repeat(2000) }));
      res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
      if (!shadow || n % 4 !== 0) return void res.end(body);
      res.write(body.subarray(0, body.length / 2));
      await sleep(20);
      req.socket.destroy();
      return;
    }
    case "/regions": {
      const names = Array.from(
        { length: 78 },
        (_, k) => `zone_${"abcdefghijklm"[k % 13]}${"abcdef"[Math.floor(k / 13)]}`,
      );
      return json({ id: n, regions: Object.fromEntries(names.map((name, k) => [name, shadow ? -k - 1 : k])) });
    }
    case "/clock":
      return json({ id: n, data: `${Date.now()}.${++labCounter}` });
    case "/orders":
      return json({ id: n, data: shadow && n % 10 === 0 ? "pending" : "shipped" });
    default:
      return json({ id: n });
  }
}

/**
 * An OAuth callback's answer, as real apps write them: a token in the Location's fragment, a JWT in
 * an ordinary header and inside a sentence, credentials under short names, a card number under an id
 * key, and an object under a credential-named key that the 8 KiB sample cut leaves unclosed.
 */
function leakLikeAnApp(version: string, res: ServerResponse): void {
  const body = JSON.stringify({
    version,
    note: `welcome back, ${LEAKED.bodyJwt} is your session`,
    access: LEAKED.accessJwt,
    refresh: LEAKED.refresh,
    pass: LEAKED.pass,
    pin: LEAKED.pin,
    profile: { cards: { "c-7f3a91": { number: LEAKED.cardNumber, brand: "visa" } } },
    credentials: { hint: LEAKED.cutSecret, padding: "p".repeat(12_000) },
  });
  res.writeHead(200, {
    "content-type": "application/json",
    location: `https://app.example.com/home#access_token=${LEAKED.fragmentToken}&expires_in=3600`,
    "x-debug": `user ${LEAKED.headerJwt}`,
    "x-origin-version": version,
  });
  res.end(body);
}

/** Extra listeners a test opens on ports of its choosing, to bring a dead origin back on the same port. */
const revived = new Map<number, Server>();

/**
 * A real HTTP origin on 127.0.0.1. It records every request and exposes the
 * record at GET /__requests (optionally `?id=<x-request-id>`), so tests that
 * run inside workerd can read what the origin saw.
 */
export async function startOrigin(behaviour: OriginBehaviour): Promise<RunningOrigin> {
  const seen: RecordedRequest[] = [];
  const closedEarly: string[] = [];
  const releases = new Releases();
  const server: Server = createServer(async (req, res) => {
    // Prefixed, not resolved: a request target such as "//x" is a path here, not a host.
    const url = new URL(`http://origin${req.url ?? "/"}`);
    if (url.pathname === "/__requests") {
      const id = url.searchParams.get("id");
      const list = id ? seen.filter((r) => r.headers["x-request-id"] === id) : seen;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(list));
      return;
    }
    if (url.pathname === "/__release") {
      releases.release(url.searchParams.get("id") ?? "");
      res.writeHead(204);
      res.end();
      return;
    }
    if (url.pathname === "/__break" && behaviour.lab === "shadow") {
      const prefix = url.searchParams.get("prefix");
      if (prefix) brokenPrefixes.add(prefix);
      res.writeHead(204);
      res.end();
      return;
    }
    if (url.pathname === "/__closed-early") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(closedEarly));
      return;
    }
    if (url.pathname === "/__free-port") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ port: await freePort() }));
      return;
    }
    if (url.pathname === "/__listen" || url.pathname === "/__unlisten") {
      // Brings up (or down) a listener on the given port that answers and records like this origin.
      const port = Number(url.searchParams.get("port"));
      const existing = revived.get(port);
      if (url.pathname === "/__unlisten" && existing) {
        revived.delete(port);
        existing.closeAllConnections();
        await new Promise<void>((resolve) => existing.close(() => resolve()));
      } else if (url.pathname === "/__listen" && !existing) {
        const extra = createServer((inner, out) => server.emit("request", inner, out));
        await new Promise<void>((resolve) => extra.listen(port, "127.0.0.1", resolve));
        revived.set(port, extra);
      }
      res.writeHead(204);
      res.end();
      return;
    }
    const body = await readBody(req);
    seen.push(record(req, body));
    if (behaviour.lab) {
      await labAnswer(behaviour.lab, req, res, closedEarly);
      return;
    }
    if (behaviour.compareLab) {
      await compareLabAnswer(behaviour.compareLab, req, res);
      return;
    }
    if (behaviour.reset) {
      req.socket.destroy();
      return;
    }
    if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    if (behaviour.hangMs && url.pathname !== "/") {
      // Held until the time is up or the gateway gives up on it, whichever is first.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, behaviour.hangMs);
        res.on("close", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (res.destroyed) return;
    }
    if (behaviour.redirectTo) {
      res.writeHead(302, { location: behaviour.redirectTo, "x-origin-version": behaviour.version });
      res.end();
      return;
    }
    if (url.pathname === "/account") {
      // An answer with everything redaction must keep out of a sample: a session cookie, a token, an email.
      res.writeHead(200, {
        "content-type": "application/json",
        "set-cookie": "session=s3ss10n-of-ann; HttpOnly",
        "x-origin-version": behaviour.version,
      });
      res.end(JSON.stringify({ version: behaviour.version, email: "ann@example.com", accessToken: "acc-t0k3n" }));
      return;
    }
    if (url.pathname === "/oauth/callback") {
      leakLikeAnApp(behaviour.version, res);
      return;
    }
    if (url.pathname === "/raw-text") {
      // Whatever the client asked for, raw, after the version: a body with bytes a terminal obeys.
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      res.end(`${behaviour.version}: ${url.searchParams.get("text") ?? ""}`);
      return;
    }
    if (url.pathname === "/raw-json") {
      // A field named by whatever the client asked for, raw, holding the version: a path with bytes a terminal obeys.
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ [url.searchParams.get("key") ?? ""]: behaviour.version }));
      return;
    }
    if (url.pathname.endsWith("/sw.js")) {
      // A service worker script that asks for the whole origin as its scope.
      res.writeHead(200, { "content-type": "text/javascript", "service-worker-allowed": "/" });
      res.end("self.addEventListener('fetch', () => {});");
      return;
    }
    if (behaviour.sse) {
      res.writeHead(200, { "content-type": "text/event-stream", "x-origin-version": behaviour.version });
      res.write("data: first\n\n");
      await releases.wait(String(req.headers["x-request-id"]), 10_000);
      res.end("data: second\n\n");
      return;
    }
    res.writeHead(behaviour.status ?? 200, {
      "content-type": "application/json",
      "x-origin-version": behaviour.version,
    });
    res.end(JSON.stringify({ version: behaviour.version, method: req.method, url: req.url, bytes: body.length }));
  });
  const upgraded = new Set<Socket>();
  server.on("upgrade", (req: IncomingMessage, socket: Socket) => {
    upgraded.add(socket);
    socket.on("close", () => upgraded.delete(socket));
    seen.push(record(req, Buffer.alloc(0)));
    if (behaviour.websocket) acceptWebSocket(req, socket, behaviour.version);
    else socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const [port, extra] of revived) {
          revived.delete(port);
          extra.closeAllConnections();
          extra.close();
        }
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

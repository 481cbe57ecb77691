import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

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

/**
 * A real HTTP origin on 127.0.0.1. It records every request and exposes the
 * record at GET /__requests (optionally `?id=<x-request-id>`), so tests that
 * run inside workerd can read what the origin saw.
 */
export async function startOrigin(behaviour: OriginBehaviour): Promise<RunningOrigin> {
  const seen: RecordedRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://origin");
    if (url.pathname === "/__requests") {
      const id = url.searchParams.get("id");
      const list = id ? seen.filter((r) => r.headers["x-request-id"] === id) : seen;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(list));
      return;
    }
    const body = await readBody(req);
    seen.push({
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      bodyBase64: body.toString("base64"),
      receivedAt: Date.now(),
    });
    if (behaviour.reset) {
      req.socket.destroy();
      return;
    }
    if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    res.writeHead(behaviour.status ?? 200, {
      "content-type": "application/json",
      "x-origin-version": behaviour.version,
    });
    res.end(JSON.stringify({ version: behaviour.version, method: req.method, url: req.url, bytes: body.length }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that refuses connections: bound once, then released. */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

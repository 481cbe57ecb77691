import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One POST a receiver got, and what it answered. */
export interface ReceivedPost {
  path: string;
  answered: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  receivedAt: number;
}

/**
 * A real webhook receiver on 127.0.0.1, for notification tests running inside workerd.
 * `POST /ok/<key>` accepts; `POST /flaky/<key>` answers 503 to the first two posts of
 * each key and then accepts; `POST /hang/<key>` is recorded and never answered (until
 * the client gives up, or `POST /__release?key=<key>` answers it and every later one 200, so a test
 * need not wait out the sender's tries). `GET /__received?key=<key>` lists what each key got.
 */
export async function startReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  const received = new Map<string, ReceivedPost[]>();
  const held = new Map<string, ServerResponse[]>();
  const released = new Set<string>();
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    if (req.method === "GET" && url.pathname === "/__received") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(received.get(url.searchParams.get("key") ?? "") ?? []));
      return;
    }
    if (req.method === "POST" && url.pathname === "/__release") {
      const key = url.searchParams.get("key") ?? "";
      released.add(key);
      for (const hanging of held.get(key) ?? []) hanging.writeHead(200).end("ok");
      held.delete(key);
      res.writeHead(204).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const [, kind = "", key = ""] = url.pathname.split("/");
    const posts = received.get(key) ?? [];
    received.set(key, posts);
    const accepts = kind === "ok" || kind === "flaky" || (kind === "hang" && released.has(key));
    const answered = kind === "flaky" && posts.length < 2 ? 503 : accepts ? 200 : 404;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      body = Buffer.concat(chunks).toString("utf8");
    }
    posts.push({ path: url.pathname, answered, headers: req.headers, body, receivedAt: Date.now() });
    if (kind === "hang" && !released.has(key)) {
      held.set(key, [...(held.get(key) ?? []), res]);
      return;
    }
    res.writeHead(answered, { "content-type": "text/plain" });
    res.end(answered === 200 ? "ok" : "try again");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

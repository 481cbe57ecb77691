import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 400 KB of JSON, past the default comparison cap of 256 KiB; `changed` flips one byte in the middle. */
function bigDocument(changed: boolean): Buffer {
  const body = Buffer.from(`{"pad":"${"a".repeat(400_000)}"}`);
  if (changed) body[200_000] = 0x62;
  return body;
}

/** Six events of a live price stream; `changed` moves the fourth event's price. */
async function priceStream(res: ServerResponse, type: "sse" | "ndjson", changed: boolean): Promise<void> {
  res.writeHead(200, { "content-type": type === "sse" ? "text/event-stream" : "application/x-ndjson" });
  for (let k = 0; k < 6; k++) {
    const data = JSON.stringify({ seq: k, price: changed && k === 3 ? 11.5 : 10 + k / 10 });
    res.write(type === "sse" ? `event: tick\ndata: ${data}\n\n` : `${data}\n`);
    await sleep(2);
  }
  res.end();
}

/**
 * The comparison-rules lab: the same paths on a "main" and a "shadow" side,
 * answering in the ways issue 28 lists (exact ids, float dust, reordered
 * items, timestamps, streams, large bodies, redirects and cookies).
 */
export async function compareLabAnswer(role: "main" | "shadow", req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://origin");
  const shadow = role === "shadow";
  const raw = (text: string | Buffer, type = "application/json", headers: Record<string, string> = {}) => {
    res.writeHead(200, { "content-type": type, ...headers });
    res.end(text);
  };
  const json = (body: unknown) => raw(JSON.stringify(body));
  const items = [
    { id: 1, q: 5 },
    { id: 2, q: 6 },
    { id: 3, q: 7 },
  ];
  switch (url.pathname) {
    case "/id-exact":
      return raw(`{"id": ${shadow ? "9007199254740992" : "9007199254740993"}}`);
    case "/id-notation":
      return raw(shadow ? '{"id": 1, "n": 100}' : '{"id": 1.0, "n": 1e2}');
    case "/price-dust":
      return json({ name: "widget", price: shadow ? 10.1 * (1 + 1e-9) : 10.1 });
    case "/price-five":
      return json({ name: "widget", price: shadow ? 10.1 * 1.05 : 10.1 });
    case "/items-reordered":
      return json({ items: shadow ? [...items].reverse() : items });
    case "/items-changed":
      return json({
        items: shadow
          ? [
              { id: 3, q: 7 },
              { id: 2, q: 9 },
              { id: 1, q: 5 },
            ]
          : items,
      });
    case "/created":
      return json({ id: 7, createdAt: new Date(Date.now() - (shadow ? 5_000 : 0)).toISOString() });
    case "/created-missing":
      return json(shadow ? { id: 7 } : { id: 7, createdAt: new Date().toISOString() });
    case "/sse-same":
    case "/sse-changed":
      return priceStream(res, "sse", shadow && url.pathname === "/sse-changed");
    case "/ndjson-short":
      if (!shadow) return priceStream(res, "ndjson", false);
      return raw(`${JSON.stringify({ seq: 0, price: 10 })}\n`, "application/x-ndjson");
    case "/big-same":
      return raw(bigDocument(false));
    case "/big-time":
      // A large answer that differs on every call, main's own included: its digest is noise.
      return raw(Buffer.from(`{"at":"${Date.now()}.${Math.random()}","pad":"${"a".repeat(400_000)}"}`));
    case "/big-changed": {
      // Chunked, without a Content-Length: the gateway learns it is large only while reading.
      const body = bigDocument(shadow);
      res.writeHead(200, { "content-type": "application/json" });
      for (let at = 0; at < body.length; at += 65_536) res.write(body.subarray(at, at + 65_536));
      res.end();
      return;
    }
    case "/login": {
      // After a good login: to the account, with a session cookie whose value differs on every call.
      const wrong = shadow && url.searchParams.get("shadow") === "wrong-place";
      const cookieless = shadow && url.searchParams.get("shadow") === "no-cookie";
      const headers: Record<string, string | string[]> = {
        location: wrong ? "/login?error=1" : `/account/${randomUUID()}?tab=orders`,
      };
      if (!cookieless) headers["set-cookie"] = [`session=${randomUUID()}; HttpOnly; Path=/`, "theme=dark; Path=/"];
      if (cookieless) headers["set-cookie"] = "theme=dark; Path=/";
      res.writeHead(302, headers);
      res.end();
      return;
    }
    default:
      return json({ path: url.pathname });
  }
}

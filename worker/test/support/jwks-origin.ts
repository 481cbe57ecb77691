import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface JwksOrigin {
  /** GET: the key set last PUT here (an empty set at first); GET <url>/fetches: how often it was read. */
  url: string;
  close(): Promise<void>;
}

async function readBody(req: import("node:http").IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

/**
 * A stand-in for Cloudflare Access's `/cdn-cgi/access/certs`: tests inside workerd PUT the public
 * key set they want served, and read back how often the gateway fetched it.
 */
export async function startJwksOrigin(): Promise<JwksOrigin> {
  let keys = JSON.stringify({ keys: [] });
  let fetches = 0;
  const server = createServer(async (req, res) => {
    if (req.url === "/certs" && req.method === "PUT") {
      keys = await readBody(req);
      res.writeHead(204);
      res.end();
      return;
    }
    if (req.url === "/certs/fetches") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ fetches }));
      return;
    }
    fetches++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(keys);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/certs`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

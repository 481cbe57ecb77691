#!/usr/bin/env node
// A tiny origin for the tutorial: `node examples/hello/server.mjs 1.0.0 3001`.
// It answers every request with its version and logs what it receives, so
// you can watch shadow copies arrive (they carry X-Daeploy-Shadow: 1).
import { createServer } from "node:http";

const [version = "1.0.0", port = "3001"] = process.argv.slice(2);

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const role =
      req.headers["user-agent"] === "daeploy-edge-health"
        ? "health check"
        : req.headers["x-daeploy-shadow"] === "1"
          ? "shadow copy"
          : "request";
    const id = req.headers["x-request-id"] ?? "-";
    console.log(`hello ${version}: ${role} ${req.method} ${req.url} (request id ${id})`);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(`${JSON.stringify({ service: "hello", version, path: req.url, bytes: Buffer.concat(chunks).length })}\n`);
  });
});

server.listen(Number(port), "127.0.0.1", () => {
  console.log(`hello ${version} listening on http://127.0.0.1:${port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));

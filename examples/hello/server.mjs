#!/usr/bin/env node
// A tiny origin for the tutorial: `node examples/hello/server.mjs 1.0.0 3001`.
// It answers every request with its version and logs what it receives, so
// you can watch shadow copies arrive (they carry X-Daeploy-Shadow: 1).
//
// Options make it differ from another copy of itself, to see what the
// gateway's evidence shows:
//   --differ FIELD:SHARE  change FIELD on that share of answers (`--differ price:0.2`:
//                         every fifth answer, counted in the order requests arrive)
//   --timestamp           add a `time` field (to the microsecond) that changes on every call
//   --delay-ms N          wait N ms before answering
//   --errors SHARE        answer 500 on that share of requests
import { createServer } from "node:http";
import { parseArgs } from "node:util";

const usage =
  "usage: node examples/hello/server.mjs VERSION PORT [--differ FIELD:SHARE] [--timestamp] [--delay-ms N] [--errors SHARE]";

function fail(message) {
  console.error(`${message}\n${usage}`);
  process.exit(1);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      differ: { type: "string" },
      timestamp: { type: "boolean", default: false },
      "delay-ms": { type: "string", default: "0" },
      errors: { type: "string", default: "0" },
    },
  });
} catch (error) {
  fail(error.message);
}
const [version = "1.0.0", port = "3001"] = parsed.positionals;

function share(text, flag) {
  const value = Number(text);
  if (text === "" || !Number.isFinite(value) || value < 0 || value > 1) fail(`${flag} takes a share from 0 to 1`);
  return value;
}

const differ = parsed.values.differ && /^([A-Za-z_]\w*):(.+)$/.exec(parsed.values.differ);
if (parsed.values.differ && !differ) fail("--differ takes FIELD:SHARE, e.g. price:0.2");
const differField = differ?.[1];
const differShare = differ ? share(differ[2], "--differ") : 0;
const errorShare = share(parsed.values.errors, "--errors");
const delayMs = Number(parsed.values["delay-ms"]);
if (!Number.isInteger(delayMs) || delayMs < 0) fail("--delay-ms takes a whole number of milliseconds");

/** Exactly `rate` of the answers so far: answer n is in the share when it carries the running total over a whole number. */
const inShare = (n, rate) => Math.floor(n * rate) > Math.floor((n - 1) * rate);

/** The same value, changed: numbers grow by a fifth, anything else gets a mark. */
const changed = (value) => (typeof value === "number" ? Math.round(value * 120) / 100 : `${value ?? ""} (changed)`);

/** Now, to the microsecond: two answers never share it, even two sent at once. */
function microsecondTime() {
  const ms = performance.timeOrigin + performance.now();
  const micros = String(Math.floor((ms % 1) * 1000)).padStart(3, "0");
  return new Date(Math.floor(ms)).toISOString().replace("Z", `${micros}Z`);
}

let answered = 0;

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", async () => {
    const health = req.headers["user-agent"] === "daeploy-edge-health";
    const role = health ? "health check" : req.headers["x-daeploy-shadow"] === "1" ? "shadow copy" : "request";
    const id = req.headers["x-request-id"] ?? "-";
    console.log(`hello ${version}: ${role} ${req.method} ${req.url} (request id ${id})`);
    // Health checks do not count, so the shares hold exactly for the traffic the gateway compares.
    const n = health ? 0 : ++answered;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (n > 0 && inShare(n, errorShare)) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(`${JSON.stringify({ error: "hello failed on purpose (--errors)" })}\n`);
      return;
    }
    const body = { service: "hello", version, path: req.url, bytes: Buffer.concat(chunks).length, price: 10 };
    if (parsed.values.timestamp) body.time = microsecondTime();
    if (differField && n > 0 && inShare(n, differShare)) body[differField] = changed(body[differField]);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(`${JSON.stringify(body)}\n`);
  });
});

// A port another process holds is one line and exit 1: requests sent on would reach that leftover
// process, and its answers would be taken for this version's.
server.on("error", (error) => {
  const reason =
    error.code === "EADDRINUSE"
      ? `port ${port} is already in use (an older hello still running?); stop that process or choose another port`
      : `cannot listen on port ${port}: ${error.message}`;
  console.error(`hello ${version}: ${reason}`);
  process.exit(1);
});

// Port 0 takes any free port; the line says which.
server.listen(Number(port), "127.0.0.1", () => {
  console.log(`hello ${version} listening on http://127.0.0.1:${server.address().port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));

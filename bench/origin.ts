// One benchmark origin in its own process, so origins do not share an event loop
// with each other or with the harness. Prints "listening <port>" once ready.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { delays, parseLatency, seedOf } from "./lib/latency.ts";
import { variedDocument, variedItems } from "./lib/varied-json.ts";

// --latency: `<ms>` (fixed) or `lognormal:<median ms>:<sigma>`, drawn from a sequence seeded by the
// origin's name, so a user's service's long tail is the same in every run.
const { values } = parseArgs({
  options: { name: { type: "string", default: "origin" }, latency: { type: "string", default: "0" } },
});
const nextDelay = delays(parseLatency(values.latency), seedOf(values.name));
const answer = JSON.stringify({ origin: values.name, ok: true });
// GET /json4k: a 4 KiB JSON document, the same from every origin, for the comparison scenarios.
const json4k = JSON.stringify({
  items: Array.from({ length: 40 }, (_, i) => ({ id: i, name: `item-${i}`, price: i * 1.25, tags: ["a", "b"] })),
});
const JSON_4K = `${json4k.slice(0, -1)},"pad":"${"x".repeat(Math.max(0, 4096 - json4k.length - 9))}"}`;
// GET /json4k-varied: about 4 KiB of JSON that only field rules make the same (bench/lib/varied-json.ts).
const variedSide = variedItems(values.name !== "main");
const varied = () => variedDocument(variedSide, new Date().toISOString(), crypto.randomUUID());

// Counted so the harness can check that shadows really received their copies and
// wait for slow copies to finish before it reads the runtime's CPU time.
let received = 0;
let inFlight = 0;

const server = createServer((req, res) => {
  if (req.url === "/__bench/stats") {
    server.getConnections((_error, connections) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ received, inFlight, connections }));
    });
    return;
  }
  received++;
  inFlight++;
  res.on("close", () => inFlight--);
  req.resume();
  req.on("end", () => {
    const body = req.url?.startsWith("/json4k-varied") ? varied() : req.url?.startsWith("/json4k") ? JSON_4K : answer;
    const reply = () => {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    const delayMs = nextDelay();
    if (delayMs > 0) setTimeout(reply, delayMs);
    else reply();
  });
});
// Node's default keep-alive timeout (5 s) closes the idle connections a runtime
// pooled during a run, so one scenario's sockets do not linger into the next.
server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));

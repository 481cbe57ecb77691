// The ledger under load, without the proxy in front: each request is one simulated
// isolate's batch, built by the gateway's own EvidenceBatcher from a second of realistic
// traffic and written to one shard of the gateway's own EvidenceLedger.
import { type EvidenceBatch, EvidenceBatcher, type ShadowResult } from "../../worker/src/evidence/batch.ts";
import type { EvidenceLedger } from "../../worker/src/evidence/ledger/index.ts";
import { shardName } from "../../worker/src/evidence/shards.ts";

export { EvidenceLedger } from "../../worker/src/evidence/ledger/index.ts";

interface Env {
  EVIDENCE_LEDGER: DurableObjectNamespace<EvidenceLedger>;
}

/** Requests one isolate compares in the second its batch covers. */
const REQUESTS_PER_BATCH = 50;
const FIELDS = ["body.price", "body.items[].sku", "body.updatedAt", "header.etag", "body.user.*.name"];

/** One second of one isolate's evidence for one shadow: 10 % differ, some noise, a sample or two. */
async function realisticBatch(): Promise<EvidenceBatch> {
  let built: EvidenceBatch | undefined;
  const batcher = new EvidenceBatcher(
    async (_name, batch) => {
      built = batch;
    },
    { intervalMs: 60_000 },
  );
  const pending: Promise<unknown>[] = [];
  const waitUntil = (promise: Promise<unknown>) => pending.push(promise);
  const at = Date.now();
  for (let i = 0; i < REQUESTS_PER_BATCH; i++) {
    const differs = Math.random() < 0.1;
    const path = FIELDS[Math.floor(Math.random() * FIELDS.length)] ?? "body";
    const result: ShadowResult = {
      version: "2.0.0",
      baseline: "1.0.0",
      at,
      outcome: Math.random() < 0.02 ? "error" : "compared",
      differences: differs ? [{ path, kind: "value" }] : [],
      mainError: false,
      latencyMs: { main: 5 + Math.random() * 40, shadow: 6 + Math.random() * 60 },
      sample: () => ({
        at: new Date(at).toISOString(),
        requestId: crypto.randomUUID(),
        method: "GET",
        url: "/api/items?page=1",
        paths: [path],
        main: {
          status: 200,
          headers: { "content-type": "application/json" },
          body: "x".repeat(1500),
          truncated: false,
        },
        shadow: {
          status: 200,
          headers: { "content-type": "application/json" },
          body: "y".repeat(1500),
          truncated: false,
        },
      }),
    };
    batcher.addShadow("scale", result, waitUntil);
    if (i % 20 === 0)
      batcher.addNoise(
        "scale",
        { main: "1.0.0", at, differences: [{ path: "body.updatedAt", kind: "value" }] },
        waitUntil,
      );
  }
  await batcher.flush("scale");
  if (!built) throw new Error("the batcher built no batch");
  return built;
}

// Built once per isolate and reused: building costs CPU on the same cores as the ledger, and every
// isolate's batch has the same shape (the ledger merges each into the current minute's rows).
let batch: Promise<EvidenceBatch> | undefined;
const oneBatch = () => {
  batch ??= realisticBatch();
  return batch;
};

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** How a write ended: written (with its time inside the Worker), overloaded, or failed otherwise. */
async function write(env: Env, name: string, shard: number, batch: EvidenceBatch) {
  const started = Date.now();
  try {
    await env.EVIDENCE_LEDGER.getByName(shardName(name, shard)).record(batch);
    return { ok: true as const, ms: Date.now() - started };
  } catch (error) {
    const overloaded =
      typeof error === "object" && error !== null && "overloaded" in error && Boolean(error.overloaded);
    return { ok: false as const, ms: Date.now() - started, overloaded, message: String(error) };
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "scale";
    const shard = Number(url.searchParams.get("shard") ?? "0");
    if (url.pathname === "/write") return json(await write(env, name, shard, await oneBatch()));
    if (url.pathname === "/flood") {
      // A closed loop of `concurrency` writers on one shard for `ms`: the most writes a second it takes.
      const ms = Number(url.searchParams.get("ms") ?? "5000");
      const concurrency = Number(url.searchParams.get("concurrency") ?? "16");
      const batch = await oneBatch();
      const until = Date.now() + ms;
      const started = Date.now();
      let written = 0;
      let failed = 0;
      let overloaded = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (Date.now() < until) {
            const result = await write(env, name, shard, batch);
            if (result.ok) written++;
            else if (result.overloaded) overloaded++;
            else failed++;
          }
        }),
      );
      const seconds = (Date.now() - started) / 1000;
      return json({ written, failed, overloaded, seconds, perSecond: written / seconds });
    }
    return json({ ok: true });
  },
};

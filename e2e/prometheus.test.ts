import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningHello, startHello } from "../cli/test/support/hello.ts";
import { prometheusTool } from "../worker/test/support/prometheus-tools.ts";

// A real Prometheus (Debian's `prometheus`) scrapes the test gateway with a bearer token while real
// traffic flows through it; the PromQL in docs/integrations.md must then say what the report says.

const { gateway, scratchDir } = inject("cliWorld");
const prometheus = prometheusTool("prometheus");
const SERVICE = "prom_hello";
const VERSION = "2.0.0";
const REQUESTS = 200;
const LE_SECONDS = [
  0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2,
  3, 5, 10, 30,
];

const hellos: RunningHello[] = [];
let server: ChildProcess | undefined;
let promUrl = "";
let dataDir = "";
const startedAt = Date.now();

const admin = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
  const response = await fetch(`${gateway.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${gateway.token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
};

interface Report {
  shadows: {
    version: string;
    verdict: string;
    requests: { mirrored: number; compared: number; different: number; error: number; down: number };
    errors: { shadow: number };
    latencyMs: { shadow: { p99: number } };
  }[];
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (typeof address !== "object" || address === null) throw new Error("no free port");
  return address.port;
}

async function until<T>(what: string, read: () => Promise<T | undefined>, withinMs = 20_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** One instant query; the value of its single result, or undefined when it has none. */
async function query(promql: string): Promise<number | undefined> {
  const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const json = (await response.json()) as {
    status: string;
    error?: string;
    data: { result: { value: [number, string] }[] };
  };
  if (json.status !== "success") throw new Error(`${promql}: ${json.error}`);
  const [first, ...rest] = json.data.result;
  if (rest.length > 0) throw new Error(`${promql}: ${json.data.result.length} results`);
  return first ? Number(first.value[1]) : undefined;
}

/** The ```promql blocks of docs/integrations.md, keyed by their first comment line. */
async function documentedQueries(): Promise<Map<string, string>> {
  const doc = await readFile(join(import.meta.dirname, "..", "docs", "integrations.md"), "utf8");
  const queries = new Map<string, string>();
  for (const [, block = ""] of doc.matchAll(/```promql\n([\s\S]*?)```/g)) {
    const [title = "", ...lines] = block.trim().split("\n");
    queries.set(
      title.replace(/^#\s*/, ""),
      lines.join("\n").replaceAll("$service", SERVICE).replaceAll("$version", VERSION),
    );
  }
  return queries;
}

const documented = (queries: Map<string, string>, title: string) => {
  const found = [...queries].find(([key]) => key.startsWith(title));
  if (!found) throw new Error(`docs/integrations.md has no PromQL titled "${title}…"`);
  return found[1];
};

beforeAll(async () => {
  if (!prometheus.path) return;
  const main = await startHello("1.0.0", []);
  const shadow = await startHello(VERSION, ["--differ", "price:0.2", "--errors", "0.05", "--delay-ms", "12"]);
  hellos.push(main, shadow);
  expect((await admin("POST", "/services", { name: SERVICE, version: "1.0.0", origin: main.url })).status).toBe(201);
  expect((await admin("POST", "/services", { name: SERVICE, version: VERSION, origin: shadow.url })).status).toBe(201);
  expect((await admin("PUT", `/services/${SERVICE}/policy`, { ignore: ["body.version"] })).status).toBe(200);

  dataDir = await mkdtemp(join(scratchDir, "prometheus-"));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const target = new URL(gateway.url);
  await writeFile(join(dataDir, "token"), gateway.token);
  await writeFile(
    join(dataDir, "prometheus.yml"),
    [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      "scrape_configs:",
      "  - job_name: daeploy-edge",
      "    metrics_path: /api/v1/metrics",
      `    authorization: { type: Bearer, credentials_file: ${join(dataDir, "token")} }`,
      `    static_configs: [{ targets: ["${target.host}"] }]`,
      "",
    ].join("\n"),
  );
  server = spawn(
    prometheus.path,
    [
      `--config.file=${join(dataDir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dataDir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const log: string[] = [];
  server.stderr?.on("data", (chunk: Buffer) => log.push(chunk.toString()));
  await until(`prometheus ready (${log.join("")})`, async () =>
    (await fetch(`${promUrl}/-/ready`)).ok ? true : undefined,
  );
  // The shadow's series are scraped at zero before any traffic, so a rate covers all of it.
  await until("a first scrape", () =>
    query(`daeploy_copies_total{service="${SERVICE}",version="${VERSION}",outcome="same"} == 0`),
  );

  for (let sent = 0; sent < REQUESTS; sent += 10) {
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const response = await fetch(`${gateway.url}/services/${SERVICE}/prices?item=${sent + i}`, {
          headers: { "x-request-id": `prom-${randomUUID()}` },
        });
        await response.arrayBuffer();
      }),
    );
  }
  await until("the ledger has every copy", async () => {
    const { body } = await admin<Report>("GET", `/services/${SERVICE}/report`);
    return body.shadows[0]?.requests.mirrored === REQUESTS ? true : undefined;
  });
  await until("prometheus has scraped every copy", async () => {
    const mirrored = await query(
      `sum(daeploy_copies_total{service="${SERVICE}",version="${VERSION}",outcome=~"same|different|error|not_compared"})`,
    );
    return mirrored === REQUESTS ? true : undefined;
  });
}, 90_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
  await Promise.all(hellos.map((hello) => hello.stop()));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await admin("DELETE", `/services/${SERVICE}`);
  if (prometheus.path) console.log(`The Prometheus test took ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
});

describe.skipIf(prometheus.skipReason !== undefined)("a real Prometheus scraping the gateway", () => {
  it("the documented difference rate is the report's, exactly", async () => {
    const { body } = await admin<Report>("GET", `/services/${SERVICE}/report`);
    const shadow = body.shadows[0];
    expect(shadow?.requests.different).toBeGreaterThan(0);
    const rate = await query(documented(await documentedQueries(), "Difference rate"));
    expect(rate).toBeCloseTo((shadow?.requests.different ?? 0) / (shadow?.requests.compared ?? 1), 12);
  });

  it("the documented success rate is one minus the report's shadow error rate", async () => {
    const { body } = await admin<Report>("GET", `/services/${SERVICE}/report`);
    const shadow = body.shadows[0];
    expect(shadow?.requests.error).toBeGreaterThan(0);
    const success = await query(documented(await documentedQueries(), "Success rate"));
    const failed = (shadow?.requests.error ?? 0) + (shadow?.requests.down ?? 0);
    const outcomes = (shadow?.requests.mirrored ?? 0) + (shadow?.requests.down ?? 0);
    expect(success).toBeCloseTo(1 - failed / (outcomes || 1), 12);
  });

  it("the documented p99 is in the latency bucket that holds the report's p99", async () => {
    const { body } = await admin<Report>("GET", `/services/${SERVICE}/report`);
    const p99 = (body.shadows[0]?.latencyMs.shadow.p99 ?? 0) / 1000;
    expect(p99).toBeGreaterThan(0.012); // the shadow waits 12 ms before answering
    const upper = LE_SECONDS.find((le) => p99 <= le) ?? Number.POSITIVE_INFINITY;
    const lower = [...LE_SECONDS].reverse().find((le) => le < upper) ?? 0;
    const promP99 = await query(documented(await documentedQueries(), "p99 of a shadow"));
    expect(promP99).toBeGreaterThanOrEqual(lower);
    expect(promP99).toBeLessThanOrEqual(upper);
  });

  it("the verdict gauge says what the report says", async () => {
    const { body } = await admin<Report>("GET", `/services/${SERVICE}/report`);
    const verdict = body.shadows[0]?.verdict ?? "";
    expect(await query(`daeploy_shadow_verdict{service="${SERVICE}",version="${VERSION}",verdict="${verdict}"}`)).toBe(
      1,
    );
  });
});

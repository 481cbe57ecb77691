import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningHello, startHello } from "../cli/test/support/hello.ts";

// The Argo Rollouts and Flagger examples of docs/integrations.md, run as those tools run them
// against the test gateway: a shadow that answers like main, and one that changes prices.

const { gateway } = inject("cliWorld");
const SERVICE = "docs_hello";
const DOCUMENTED_HOST = "https://gateway.example.com";
const hellos: RunningHello[] = [];

const admin = (method: string, path: string, body?: unknown) =>
  fetch(`${gateway.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${gateway.token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

/** The ```yaml block of docs/integrations.md that contains `marker`. */
async function documentedYaml(marker: string): Promise<string> {
  const doc = await readFile(join(import.meta.dirname, "..", "docs", "integrations.md"), "utf8");
  const block = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? "").find((b) => b.includes(marker));
  if (!block) throw new Error(`docs/integrations.md has no YAML example with ${marker}`);
  return block;
}

/** The value of `key:` in a YAML block, without its quotes. */
function field(yaml: string, key: string): string {
  const match = new RegExp(`^\\s*-?\\s*${key}:\\s*(.+)$`, "m").exec(yaml);
  if (!match?.[1]) throw new Error(`no ${key} in the example`);
  const value = match[1].trim();
  return value.startsWith('"') ? (JSON.parse(value) as string) : value;
}

/** Kubernetes JSONPath as Argo uses it, for the one form the docs use: `{$.a.b}`. */
function jsonPath(template: string, data: unknown): string {
  const match = /^\{\$((?:\.\w+)+)\}$/.exec(template);
  if (!match?.[1]) throw new Error(`unsupported jsonPath ${template}`);
  let value: unknown = data;
  for (const key of match[1].slice(1).split(".")) value = (value as Record<string, unknown>)?.[key];
  return String(value);
}

/** Argo's conditions in the docs' form: `result == "…"`. */
function holds(condition: string, result: string): boolean {
  const match = /^result == "(\w+)"$/.exec(condition);
  if (!match) throw new Error(`unsupported condition ${condition}`);
  return result === match[1];
}

beforeAll(async () => {
  const main = await startHello("1.0.0", []);
  const clean = await startHello("2.0.0", []);
  const pricey = await startHello("3.0.0", ["--differ", "price:0.3"]);
  hellos.push(main, clean, pricey);
  for (const [version, origin] of [
    ["1.0.0", main.url],
    ["2.0.0", clean.url],
    ["3.0.0", pricey.url],
  ]) {
    expect((await admin("POST", "/services", { name: SERVICE, version, origin })).status).toBe(201);
  }
  // body.version differs by design; a shared test machine's latency jitter is not what this judges.
  // Limits of 5 % and alpha 0.2: 320 clean requests clear them at any look (a p99 band needs ~310 latencies).
  const policy = {
    ignore: ["body.version"],
    gate: { minP99DeltaMs: 1000, maxDiffRate: 0.05, maxErrorRateIncrease: 0.05, alpha: 0.2 },
  };
  expect((await admin("PUT", `/services/${SERVICE}/policy`, policy)).status).toBe(200);
  for (let sent = 0; sent < 320; sent += 10) {
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const response = await fetch(`${gateway.url}/services/${SERVICE}/prices?item=${sent + i}`, {
          headers: { "x-request-id": `docs-${randomUUID()}` },
        });
        await response.arrayBuffer();
      }),
    );
  }
  const deadline = Date.now() + 15_000;
  for (;;) {
    const report = (await (await admin("GET", `/services/${SERVICE}/report`)).json()) as {
      shadows: { requests: { compared: number } }[];
    };
    if (report.shadows.every((s) => s.requests.compared >= 320)) break;
    if (Date.now() > deadline) throw new Error("the evidence did not settle within 15 s");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}, 60_000);

afterAll(async () => {
  await admin("DELETE", `/services/${SERVICE}`);
  await Promise.all(hellos.map((hello) => hello.stop()));
});

describe("the documented Argo Rollouts AnalysisTemplate", () => {
  it.each([
    ["2.0.0", "pass", "successCondition"],
    ["3.0.0", "fail", "failureCondition"],
  ])("reads %s as %s, meeting its %s, from a 2xx answer", async (version, verdict, condition) => {
    const template = await documentedYaml("kind: AnalysisTemplate");
    const url = field(template, "url")
      .replace(DOCUMENTED_HOST, gateway.url)
      .replace("{{args.service}}", SERVICE)
      .replace("{{args.version}}", version);
    const headers = template.slice(template.indexOf("headers:"));
    const authorization = field(headers, "value").replace("{{args.daeploy-token}}", gateway.token);
    // Argo's web provider: a GET with the template's headers; anything but 2xx is an error, not a result.
    const response = await fetch(url, { headers: { [field(headers, "key")]: authorization } });
    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(300);
    const result = jsonPath(field(template, "jsonPath"), await response.json());
    expect(result).toBe(verdict);
    expect(holds(field(template, condition), result)).toBe(true);
  });
});

describe("the documented Flagger webhook", () => {
  it.each([
    ["2.0.0", 200],
    ["3.0.0", 412],
  ])("POSTs Flagger's body for %s: %s (a 2xx exactly when it passes)", async (version, status) => {
    const webhook = await documentedYaml("webhooks:");
    const url = field(webhook, "url")
      .replace(DOCUMENTED_HOST, gateway.url)
      .replace("/services/hello/2.0.0/", `/services/${SERVICE}/${version}/`);
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${gateway.token}` },
      body: JSON.stringify({ name: "hello", namespace: "test", phase: "Progressing", metadata: { service: SERVICE } }),
    });
    expect(response.status, JSON.stringify(await response.clone().json())).toBe(status);
  });
});

import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import {
  fuzzSeed,
  type OpenApiDocument,
  type Operation,
  ResponseValidator,
  SchemaArbitraries,
} from "../support/schema-fuzz.ts";
import { TOKEN } from "./admin-client.ts";

const origins = inject("origins");
const SEED = fuzzSeed(inject("fuzzSeed"), 20261206);
const RUNS = 300;
const GATEWAY = "http://gateway.test";

const document = await (
  await exports.default.fetch(`${GATEWAY}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } })
).json<OpenApiDocument>();

// Names and versions that exist, so that routes get past their 404s; random ones beside them.
const NAMES = ["fz_one", "fz_two"];
const VERSIONS = ["1.0.0", "2.0.0", "2.0.0-rc.1"];
const strings = {
  name: fc.oneof(fc.constantFrom(...NAMES), fc.stringMatching(/^fz_[a-z0-9]{1,8}$/)),
  version: fc.constantFrom(...VERSIONS, "9.9.9"),
  // Origins stay on this machine: a live one, a dead one, and malformed ones.
  origin: fc.constantFrom(
    origins.v1,
    `${origins.v2}/base/path?x=1`,
    origins.dead,
    "http://user:pw@127.0.0.1:1/",
    "http://127.0.0.1:1/#fragment",
    "ftp://127.0.0.1/",
    "127.0.0.1",
    "http://",
  ),
  url: fc.constantFrom(`${origins.receiver}/ok/fuzz`, "http://127.0.0.1:1/", "https://", "javascript:alert(1)"),
  window: fc.constantFrom("5m", "1h", "7d", "8d", "0m", "4m", "h", "1y", "999999999999d"),
};
const arbitraries = new SchemaArbitraries(document, strings);
const validator = new ResponseValidator(document);

/** A path parameter: an existing name or version, one the schema allows, or any string at all. */
const pathValue = (operation: Operation, name: string): fc.Arbitrary<string> => {
  const schema = operation.parameters?.find((p) => p.name === name)?.schema ?? {};
  return fc.oneof(
    { weight: 12, arbitrary: strings[name as "name" | "version"] ?? fc.string() },
    { weight: 1, arbitrary: arbitraries.of(schema, name).map(String) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 80 }) },
  );
};

interface FuzzRequest {
  method: string;
  path: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

const BAD_BODIES = ["", "{", "[]", "null", "1", '"x"', '{"a":', "\u0000", "{}".padEnd(70_000, " ")];

/** One request to one documented operation: parameters, query and body from its schemas, malformed now and then. */
function requestFor(template: string, method: string, operation: Operation): fc.Arbitrary<FuzzRequest> {
  const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "");
  const params = fc.tuple(...names.map((name) => pathValue(operation, name)));
  const queryParams = (operation.parameters ?? []).filter((p) => p.in === "query");
  const query = fc.tuple(
    ...queryParams.map((p) => fc.option(arbitraries.of(p.schema, p.name), { freq: 3 })),
    fc.option(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), { freq: 6 }),
  );
  const schema = operation.requestBody?.content["application/json"].schema;
  const body: fc.Arbitrary<string | undefined> = schema
    ? fc.oneof(
        { weight: 6, arbitrary: arbitraries.valid(schema).map((value) => JSON.stringify(value)) },
        { weight: 3, arbitrary: arbitraries.of(schema).map((value) => JSON.stringify(value)) },
        { weight: 1, arbitrary: fc.constantFrom(...BAD_BODIES) },
        { weight: 1, arbitrary: fc.string() },
      )
    : fc.constant(undefined);
  const contentType = fc.oneof(
    { weight: 8, arbitrary: fc.constant("application/json") },
    {
      weight: 1,
      arbitrary: fc.constantFrom("text/plain", "application/json; charset=utf-16", "", "multipart/form-data"),
    },
  );
  const authorization = fc.oneof(
    { weight: 12, arbitrary: fc.constant(`Bearer ${TOKEN}`) },
    { weight: 1, arbitrary: fc.constantFrom("", "Bearer", `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, "Bearer %C3%A9") },
  );
  return fc.tuple(params, query, body, contentType, authorization).map(([values, q, b, type, auth]) => {
    let path = template;
    names.forEach((name, i) => {
      path = path.replace(`{${name}}`, encodeURIComponent(values[i] ?? ""));
    });
    const search = new URLSearchParams();
    queryParams.forEach((p, i) => {
      const value = q[i];
      if (value !== null && value !== undefined)
        search.set(p.name, typeof value === "string" ? value : JSON.stringify(value));
    });
    const extra = q[queryParams.length] as [string, string] | null;
    if (extra) search.append(extra[0], extra[1]);
    const headers: Record<string, string> = { authorization: auth };
    if (b !== undefined) headers["content-type"] = type;
    const url = `${GATEWAY}/api/v1${path}${search.size > 0 ? `?${search}` : ""}`;
    return { method: method.toUpperCase(), path: template, url, headers, body: b };
  });
}

const operations = Object.entries(document.paths).flatMap(([template, item]) =>
  Object.entries(item).map(([method, operation]) => ({ template, method, operation })),
);

/** What is wrong with one answer, judged by the document alone; empty when nothing is. */
async function problemsWith(operation: Operation, response: Response): Promise<string[]> {
  const status = String(response.status);
  const text = await response.text();
  if (response.status >= 500) return [`answered ${status}: ${text.slice(0, 300)}`];
  const documented = operation.responses[status];
  if (!documented)
    return [`answered ${status}, which the document does not list for this route: ${text.slice(0, 300)}`];
  const schema = documented.content?.["application/json"]?.schema;
  if (!schema) return [];
  if (!response.headers.get("content-type")?.startsWith("application/json")) {
    return [`answered ${status} as ${response.headers.get("content-type")}, not JSON`];
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [`answered ${status} with a body that is not JSON: ${text.slice(0, 200)}`];
  }
  const errors = validator.check(schema, body);
  // The validator lists the enclosing schemas first: the last errors are the ones that say what is wrong.
  return errors.length > 0 ? [`${status} does not match the document: ${errors.slice(-3).reverse().join("; ")}`] : [];
}

/** Puts the two names back as they were (a fuzzed kill or assign may have changed them). */
async function world(): Promise<void> {
  for (const name of NAMES) {
    await exports.default.fetch(`${GATEWAY}/api/v1/services/${name}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    for (const version of VERSIONS) {
      const response = await exports.default.fetch(`${GATEWAY}/api/v1/services`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ name, version, origin: origins.v1, check: false }),
      });
      expect(response.status).toBe(201);
    }
  }
}

beforeEach(() => {
  // The gateway logs refused and failed calls as JSON lines; the fuzzer's own report is what matters here.
  vi.spyOn(console, "log").mockImplementation(() => undefined);
  vi.spyOn(console, "error").mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe(`the admin API under generated input (seed ${SEED}; replay with FUZZ_SEED=${SEED})`, () => {
  it("covers every documented operation", () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
  });

  it("never answers 5xx, and every answer is one the document lists, in its schema", { timeout: 60_000 }, async () => {
    await world();
    let sent = 0;
    const request = fc
      .constantFrom(...operations)
      .chain(({ template, method, operation }) => requestFor(template, method, operation));
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const operation = document.paths[r.path]?.[r.method.toLowerCase()];
        if (!operation) throw new Error(`no operation ${r.method} ${r.path} in the document`);
        if (++sent % 100 === 0) await world();
        const response = await exports.default.fetch(r.url, { method: r.method, headers: r.headers, body: r.body });
        const problems = await problemsWith(operation, response);
        if (problems.length > 0) {
          throw new Error(`${r.method} ${r.url}\n  body: ${r.body?.slice(0, 300)}\n  ${problems.join("\n  ")}`);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

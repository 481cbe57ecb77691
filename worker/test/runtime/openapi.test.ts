import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { Env } from "../../src/env.ts";
import worker from "../../src/index.ts";
import { deploy, recordEvidence, TOKEN } from "./admin-client.ts";

interface Parameter {
  name: string;
  in: "path" | "query";
  required: boolean;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: { "application/json": { schema: { $ref: string } } } };
  responses: Record<string, unknown>;
}
interface JsonSchema {
  properties?: Record<string, { examples?: unknown[]; default?: unknown }>;
}
interface Document {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
}

const GATEWAY = "http://gateway.test";

/** A name whose traffic is captured (its main answers), and one replaying it. */
function replayStates(freshName: () => Promise<string>): [string, () => Promise<Record<string, string>>][] {
  async function captured() {
    const name = `${await freshName()}_live`;
    expect((await deploy(name, "1.0.0", inject("origins").v1)).status).toBe(201);
    expect((await deploy(name, "2.0.0", inject("origins").v1)).status).toBe(201);
    const from = new Date(Date.now() - 1_000).toISOString();
    const policy = await send("PUT", `${GATEWAY}/api/v1/services/${name}/policy`, {
      body: JSON.stringify({ capture: { percent: 100 } }),
    });
    expect(policy.status).toBe(200);
    for (const i of [1, 2, 3]) await (await send("GET", `${GATEWAY}/services/${name}/items/${i}`)).text();
    for (let tries = 0; ; tries++) {
      const view = await send("GET", `${GATEWAY}/api/v1/services/${name}/captures`);
      if ((await view.json<{ total: { requests: number } }>()).total.requests >= 3) break;
      expect(tries).toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { name, version: "2.0.0", from };
  }
  return [
    ["a shadow with captured traffic", captured],
    [
      "a shadow with a replay running",
      async () => {
        const values = await captured();
        const started = await send("POST", `${GATEWAY}/api/v1/services/${values.name}/2.0.0/replays`, {
          body: JSON.stringify({ from: values.from, rate: 1 }),
        });
        expect(started.status).toBe(201);
        return { ...values, id: (await started.json<{ id: string }>()).id };
      },
    ],
  ];
}

async function send(
  method: string,
  url: string,
  init: { body?: string | ReadableStream; type?: string; token?: string | null; env?: Env } = {},
): Promise<Response> {
  const headers = new Headers();
  const token = init.token === undefined ? TOKEN : init.token;
  if (token !== null) headers.set("authorization", `Bearer ${token}`);
  if (init.body !== undefined) headers.set("content-type", init.type ?? "application/json");
  const request = new Request(url, { method, headers, body: init.body });
  if (!init.env) return exports.default.fetch(request);
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, init.env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const doc = await (await send("GET", `${GATEWAY}/api/v1/openapi.json`)).json<Document>();

describe("the OpenAPI document", () => {
  it("places its paths under /api/v1, where the API is", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([{ url: "/api/v1" }]);
    expect(Object.keys(doc.paths).every((path) => !path.startsWith("/api"))).toBe(true);
  });

  it("lists every admin route", () => {
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m} ${path}`),
    );
    expect(operations.sort()).toEqual([
      "delete /services/{name}",
      "delete /services/{name}/replays/{id}",
      "delete /services/{name}/rollout",
      "delete /services/{name}/{version}",
      "delete /services/{name}/{version}/replays/{id}",
      "delete /services/{name}/{version}/rollout",
      "get /audit",
      "get /metrics",
      "get /openapi.json",
      "get /rollouts",
      "get /services",
      "get /services/{name}",
      "get /services/{name}/captures",
      "get /services/{name}/policy",
      "get /services/{name}/replays",
      "get /services/{name}/replays/{id}",
      "get /services/{name}/report",
      "get /services/{name}/rollout",
      "get /services/{name}/{version}/diffs",
      "get /services/{name}/{version}/gate",
      "get /services/{name}/{version}/replays/{id}",
      "get /services/{name}/{version}/rollout",
      "get /session",
      "patch /services/{name}/{version}",
      "post /services",
      "post /services/{name}/{version}/gate",
      "post /services/{name}/{version}/replays",
      "post /services/{name}/{version}/rollout",
      "put /services/{name}/main",
      "put /services/{name}/policy",
    ]);
  });
});

/**
 * Walks every documented operation against the running worker: well-formed
 * calls on a name in each state the rules know, then every kind of bad call.
 * Any status an operation answers must be documented for it, and every error
 * status it documents (but 500) must be one that some call provokes.
 */
describe("every documented operation, against the running worker", () => {
  const seen = new Map<string, Set<string>>();
  let fixtures = 0;

  /** A fresh name with main 1.0.0 and shadow 2.0.0. */
  async function freshName(): Promise<string> {
    const name = `walk_${++fixtures}`;
    expect((await deploy(name, "1.0.0", "http://127.0.0.1:1")).status).toBe(201);
    expect((await deploy(name, "2.0.0", "http://127.0.0.1:1")).status).toBe(201);
    return name;
  }

  /** Some name, version and body for an operation, built from its parameters and its body's examples. */
  function call(path: string, operation: Operation, values: Record<string, string>) {
    let url = `${GATEWAY}${doc.servers[0]?.url}${path}`;
    const query = new URLSearchParams();
    for (const parameter of operation.parameters ?? []) {
      const value = values[parameter.name];
      // A well-formed call leaves out an optional query parameter it has no value for.
      if (value === undefined && !parameter.required) continue;
      if (parameter.in === "path") url = url.replace(`{${parameter.name}}`, encodeURIComponent(value ?? ""));
      else query.set(parameter.name, value ?? "");
    }
    if (query.size > 0) url += `?${query}`;
    const ref = operation.requestBody?.content["application/json"].schema.$ref;
    const schema = ref ? doc.components.schemas[ref.split("/").pop() ?? ""] : undefined;
    const body = schema && {
      ...Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([key, property]) => [
          key,
          property.examples?.[0] ?? property.default,
        ]),
      ),
      ...(schema.properties?.check && { check: false }),
      ...Object.fromEntries(Object.entries(values).filter(([key]) => key in (schema.properties ?? {}))),
    };
    return { url, body };
  }

  async function expectDocumented(key: string, operation: Operation, response: Response, what: string) {
    const status = String(response.status);
    seen.get(key)?.add(status);
    expect(Object.keys(operation.responses), `${key} answered ${status} for ${what}`).toContain(status);
    if (response.status >= 400) {
      const body = await response.json<{ error: { code: string; message: string } }>();
      expect(body.error.code, `${key} ${what}`).toBeTruthy();
      expect(body.error.message, `${key} ${what}`).toBeTruthy();
    }
  }

  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const key = `${method.toUpperCase()} ${path}`;
      seen.set(key, new Set());
      const verb = method.toUpperCase();

      it(`${key}: a well-formed call on a name in every state`, async () => {
        const states: [string, () => Promise<Record<string, string>>][] = [
          ["a new version", async () => ({ name: await freshName(), version: "3.0.0" })],
          ["a shadow", async () => ({ name: await freshName(), version: "2.0.0" })],
          ["the main", async () => ({ name: await freshName(), version: "1.0.0" })],
          [
            "a shadow whose evidence passes the gate",
            async () => {
              const name = await freshName();
              await recordEvidence(name, "2.0.0", { compared: 2000, latencyMs: { main: 20, shadow: 21 } });
              return { name, version: "2.0.0" };
            },
          ],
          [
            "a shadow whose evidence fails the gate",
            async () => {
              const name = await freshName();
              await recordEvidence(name, "2.0.0", { compared: 200, different: { "body.price": 100 } });
              return { name, version: "2.0.0" };
            },
          ],
          [
            "a shadow with a rollout running",
            async () => {
              const name = await freshName();
              const started = await send("POST", `${GATEWAY}/api/v1/services/${name}/2.0.0/rollout`, {
                body: JSON.stringify({ steps: [5] }),
              });
              expect(started.status).toBe(201);
              return { name, version: "2.0.0" };
            },
          ],
          ["an unknown name", async () => ({ name: `nobody_${++fixtures}`, version: "1.0.0" })],
          // Only the replay routes need a name with captured traffic (and it takes a second's flush).
          ...(path.includes("/replays") ? replayStates(freshName) : []),
        ];
        // An operation that takes no name and no body sends the same call in every state: it is sent once,
        // with names in every state at once (GET /metrics reads every name's ledger, so seven calls took 11 s).
        if ((operation.parameters ?? []).length === 0 && !operation.requestBody) {
          for (const [, values] of states) await values();
          const { url } = call(path, operation, {});
          await expectDocumented(key, operation, await send(verb, url), "names in every state");
          return;
        }
        for (const [state, values] of states) {
          const { url, body } = call(path, operation, await values());
          const response = await send(verb, url, { body: body && JSON.stringify(body) });
          await expectDocumented(key, operation, response, state);
        }
      }, 30_000);

      it(`${key}: without a token, with the read token, and with the secret unset`, async () => {
        const { url, body } = call(path, operation, { name: "walk_auth", version: "1.0.0" });
        const json = body && JSON.stringify(body);
        await expectDocumented(key, operation, await send(verb, url, { body: json, token: null }), "no token");
        await expectDocumented(key, operation, await send(verb, url, { body: json, token: "wrong" }), "a wrong token");
        const readable = { ...env, READ_TOKEN: "walk-read-token" };
        const read = await send(verb, url, { body: json, token: "walk-read-token", env: readable });
        await expectDocumented(key, operation, read, "the read token");
        const unset = { ...env, ADMIN_TOKEN: undefined };
        await expectDocumented(key, operation, await send(verb, url, { body: json, env: unset }), "no secret");
      });

      it(`${key}: each parameter invalid or repeated`, async () => {
        for (const parameter of operation.parameters ?? []) {
          const { url, body } = call(path, operation, {
            name: "walk_bad",
            version: "1.0.0",
            [parameter.name]: "Not-Valid",
          });
          const json = body && JSON.stringify(body);
          await expectDocumented(key, operation, await send(verb, url, { body: json }), `an invalid ${parameter.name}`);
          if (parameter.in === "query") {
            const repeated = `${url}&${parameter.name}=again`;
            await expectDocumented(key, operation, await send(verb, repeated), `a repeated ${parameter.name}`);
          }
        }
      });

      if (operation.requestBody) {
        it(`${key}: every kind of bad body`, async () => {
          const { url, body } = call(path, operation, { name: await freshName(), version: "4.0.0" });
          const bodies: [string, string | ReadableStream, string?][] = [
            ["a form body", "version=1.0.0", "application/x-www-form-urlencoded"],
            ["malformed JSON", "{version:"],
            ["an empty body", ""],
            ["a JSON list", "[]"],
            ["an empty object", "{}"],
            ["a body over 64 KiB", JSON.stringify({ ...body, pad: "x".repeat(70_000) })],
          ];
          for (const field of Object.keys(body ?? {})) {
            bodies.push([`a number for ${field}`, JSON.stringify({ ...body, [field]: 12 })]);
          }
          for (const [what, raw, type] of bodies) {
            await expectDocumented(key, operation, await send(verb, url, { body: raw, type }), what);
          }
        });
      }
    }
  }

  afterAll(() => {
    // Every documented error is one the walk could provoke; 500 is documented for failures no call should cause.
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const key = `${method.toUpperCase()} ${path}`;
        const documented = Object.keys(operation.responses).filter((status) => status !== "500");
        expect([...(seen.get(key) ?? [])].sort(), key).toEqual(documented.sort());
      }
    }
  });
});

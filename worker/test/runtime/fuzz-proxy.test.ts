import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { fuzzSeed } from "../support/schema-fuzz.ts";
import { api, deploy } from "./admin-client.ts";
import { GATEWAY } from "./proxy-helpers.ts";

const origins = inject("origins");
const SEED = fuzzSeed(inject("fuzzSeed"), 20261207);
const RUNS = 300;

// `pz`: main 1.0.0, a shadow 2.0.0 that also answers a 20 % canary share, a shadow 3.0.0 sampled at 50 % for
// GET only. `pzdead`: a main that refuses every connection.
const LIVE = "pz";
const DEAD = "pzdead";

/**
 * The gateway's own answers that are documented, not failures: a main that
 * cannot be reached (502) or sends nothing in time (504), and a request that
 * has passed through too often (508). Anything else at 5xx, or any of these
 * where they do not apply, is the gateway failing.
 */
const DOCUMENTED = { 502: "origin_unreachable", 504: "origin_timeout", 508: "loop_detected" } as const;

const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 60,
});

const segment = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(LIVE, `${LIVE}_1.0.0`, `${LIVE}_2.0.0`, `${LIVE}_3.0.0`, DEAD) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      `${LIVE}_9.9.9`,
      "nosuch",
      "PZ",
      `${LIVE}_`,
      `_${LIVE}`,
      "",
      "..",
      "%2e%2e",
      "%00",
      "%ff",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 70 }).map(encodeURIComponent) },
);
const pathPart = fc.oneof(
  fc.constantFrom("", ".", "..", "%2e%2e", "a%2Fb", "%00", "%ff", "%", "~", "__requests", "item"),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);
const query = fc.option(
  fc.oneof(
    printable.map((q) => encodeURI(q).replaceAll("#", "%23")),
    fc.constantFrom("a=1&a=2", "=", "&&", "%zz"),
  ),
  { freq: 2 },
);

/** Headers a client may send, with the ones the gateway reads given odd values. */
const headers = fc
  .record(
    {
      "x-request-id": fc.oneof(printable, fc.constant("x".repeat(300))),
      "x-daeploy-shadow": fc.constantFrom("1", "0", "yes", ""),
      "x-daeploy-shadow-proof": printable,
      via: fc.oneof(
        fc.constantFrom("1.1 daeploy-x", Array.from({ length: 6 }, (_, i) => `1.1 daeploy-${i}`).join(", ")),
        printable,
      ),
      traceparent: fc.oneof(printable, fc.constant("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")),
      tracestate: printable,
      "content-type": fc.constantFrom("application/json", "text/plain", "multipart/form-data; boundary=x", "x/y"),
      "content-encoding": fc.constantFrom("gzip", "br", "identity", "zz"),
      "accept-encoding": fc.constantFrom("gzip", "br, zstd", "*", ""),
      authorization: fc.constantFrom("Bearer test-token", "Bearer nope", "Basic abc"),
      cookie: fc.constantFrom("CF_Authorization=x; a=b", "a=1", ";;"),
      "cf-access-jwt-assertion": printable,
      "x-user-id": printable,
      "x-forwarded-for": fc.constantFrom("1.2.3.4", "not an ip", ""),
      "x-forwarded-host": printable,
      expect: fc.constantFrom("100-continue"),
      range: fc.constantFrom("bytes=0-1", "bytes=-1", "nonsense"),
    },
    { requiredKeys: [] },
  )
  .chain((known) =>
    fc.dictionary(token, printable, { maxKeys: 4 }).map((extra) => ({ ...extra, ...known }) as Record<string, string>),
  );

// Every method the runtime can carry (it refuses to build a request with any other).
const METHODS = [
  ...["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PURGE", "QUERY", "PROPFIND", "PROPPATCH"],
  ...["MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT", "ACL", "MERGE", "NOTIFY", "SUBSCRIBE"],
  ...["get", "post", "Patch"],
].filter((method) => {
  try {
    return new Request(GATEWAY, { method }).method !== "";
  } catch {
    return false;
  }
});
const body = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 4096 }),
  fc.constant(new Uint8Array(300_000).fill(7)),
);

const request = fc.record({
  method: fc.constantFrom(...METHODS),
  segment,
  rest: fc.array(pathPart, { maxLength: 4 }),
  trailingSlash: fc.boolean(),
  query,
  headers,
  body,
});

beforeAll(async () => {
  expect((await deploy(LIVE, "1.0.0", origins.v1)).status).toBe(201);
  expect((await deploy(LIVE, "2.0.0", origins.v2)).status).toBe(201);
  expect((await deploy(LIVE, "3.0.0", origins.labShadow)).status).toBe(201);
  expect((await deploy(DEAD, "1.0.0", origins.dead)).status).toBe(201);
  expect((await api("PATCH", `/services/${LIVE}/2.0.0`, { body: { canaryPercent: 20 } })).status).toBe(200);
  const sampled = { mirrorPercent: 50, mirrorMethods: ["GET"] };
  expect((await api("PATCH", `/services/${LIVE}/3.0.0`, { body: sampled })).status).toBe(200);
});

beforeEach(() => {
  // The gateway logs failed copies and odd requests as JSON lines; the fuzzer's own report is what matters here.
  vi.spyOn(console, "log").mockImplementation(() => undefined);
  vi.spyOn(console, "error").mockImplementation(() => undefined);
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe(`the proxy under odd requests (seed ${SEED}; replay with FUZZ_SEED=${SEED})`, () => {
  it("never answers a 5xx of its own: only 502/504 for a dead main and 508 for a loop, as JSON", {
    timeout: 60_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const path = `/services/${r.segment}${r.rest.length > 0 ? `/${r.rest.join("/")}` : ""}${r.trailingSlash ? "/" : ""}`;
        const url = `${GATEWAY}${path}${r.query !== null ? `?${r.query}` : ""}`;
        const bodiless = ["GET", "HEAD"].includes(r.method.toUpperCase());
        const withBody = !bodiless && r.body !== undefined;
        const response = await exports.default.fetch(url, {
          method: r.method,
          headers: r.headers,
          body: withBody ? r.body : undefined,
        });
        const text = await response.text();
        if (response.status < 500) return;
        const code = (DOCUMENTED as Record<number, string>)[response.status];
        // A HEAD answer has no body; its content type still says what a GET would carry.
        let answered: string | undefined = r.method.toUpperCase() === "HEAD" ? code : undefined;
        try {
          answered = JSON.parse(text)?.error?.code;
        } catch {}
        if (!response.headers.get("content-type")?.startsWith("application/json")) answered = undefined;
        const deadMain = r.segment === DEAD || r.segment === `${DEAD}_1.0.0`;
        const expected = response.status === 508 || (deadMain && response.status !== 508);
        if (code === undefined || answered !== code || !expected) {
          throw new Error(
            `${r.method} ${url}\n  headers: ${JSON.stringify(r.headers)}\n  body bytes: ${
              withBody ? (typeof r.body === "string" ? r.body.length : r.body?.length) : 0
            }\n  answered ${response.status}: ${text.slice(0, 300)}`,
          );
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

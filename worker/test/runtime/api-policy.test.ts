import { describe, expect, inject, it } from "vitest";
import type { PolicyResult } from "../../src/coordinator/results.ts";
import { api, deploy } from "./admin-client.ts";

const origins = inject("origins");

const DEFAULTS: PolicyResult = {
  ignore: [],
  headers: [],
  noisePercent: 5,
  redact: [],
  rules: [],
  gate: {
    minRequests: 100,
    maxDiffRate: 0.01,
    maxErrorRateIncrease: 0.01,
    maxP99Ratio: 1.5,
    passP99Ratio: 2,
    minP99DeltaMs: 25,
    alpha: 0.01,
  },
  capture: null,
  notify: null,
};

let names = 0;
async function freshName(): Promise<string> {
  const name = `policy_${++names}`;
  expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
  expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
  return name;
}

const getPolicy = (name: string) => api<PolicyResult>("GET", `/services/${name}/policy`);
const putPolicy = (name: string, body: unknown) => api<PolicyResult>("PUT", `/services/${name}/policy`, { body });

describe("GET /services/:name/policy", () => {
  it("answers the defaults for a name whose policy was never set", async () => {
    const res = await getPolicy(await freshName());
    expect(res.status).toBe(200);
    expect(res.body).toEqual(DEFAULTS);
  });

  it("answers 404 for an unknown name, 422 for an invalid one", async () => {
    const missing = await getPolicy("policy_nobody");
    expect(missing.status).toBe(404);
    expect(missing.body.error?.code).toBe("service_not_found");
    const invalid = await getPolicy("Bad_Name");
    expect(invalid.status).toBe(422);
    expect(invalid.body.error?.field).toBe("name");
  });
});

describe("PUT /services/:name/policy", () => {
  it("replaces the given fields, gate thresholds one by one, and answers the whole policy", async () => {
    const name = await freshName();
    const first = await putPolicy(name, { gate: { maxDiffRate: 0.05 } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ ...DEFAULTS, gate: { ...DEFAULTS.gate, maxDiffRate: 0.05 } });

    const second = await putPolicy(name, { ignore: ["body.time", "header.etag"], gate: { minRequests: 10 } });
    const expected = {
      ...DEFAULTS,
      ignore: ["body.time", "header.etag"],
      gate: { ...DEFAULTS.gate, maxDiffRate: 0.05, minRequests: 10 },
    };
    expect(second.body).toEqual(expected);

    const third = await putPolicy(name, { headers: ["cache-control"], noisePercent: 0 });
    expect(third.body).toEqual({ ...expected, headers: ["cache-control"], noisePercent: 0 });
    expect((await getPolicy(name)).body).toEqual(third.body);

    // A given list replaces the stored one: the way to forget every ignored path.
    const cleared = await putPolicy(name, { ignore: [] });
    expect(cleared.body.ignore).toEqual([]);
    expect(cleared.body.headers).toEqual(["cache-control"]);
  });

  it("adds and removes ignored paths one by one, keeping the rest in order", async () => {
    const name = await freshName();
    await putPolicy(name, { ignore: ["body.time", "header.etag"] });
    const added = await putPolicy(name, { ignoreAdd: ["body.price", "body.time"] });
    expect(added.status).toBe(200);
    expect(added.body.ignore).toEqual(["body.time", "header.etag", "body.price"]);
    const removed = await putPolicy(name, { ignoreRemove: ["header.etag", "body.never"], noisePercent: 3 });
    expect(removed.body).toEqual({ ...DEFAULTS, ignore: ["body.time", "body.price"], noisePercent: 3 });
    // A name whose list was never set starts from the default (empty) list.
    const fresh = await putPolicy(await freshName(), { ignoreAdd: ["status"] });
    expect(fresh.body.ignore).toEqual(["status"]);
  });

  it("adds and removes redacted fields one by one, as it does ignored paths", async () => {
    const name = await freshName();
    await putPolicy(name, { redact: ["query.user"], ignore: ["body.time"] });
    const added = await putPolicy(name, { redactAdd: ["body.email", "query.user"], ignoreAdd: ["body.price"] });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ redact: ["query.user", "body.email"], ignore: ["body.time", "body.price"] });
    const removed = await putPolicy(name, { redactRemove: ["query.user", "body.never"] });
    expect(removed.body).toMatchObject({ redact: ["body.email"], ignore: ["body.time", "body.price"] });
    const fresh = await putPolicy(await freshName(), { redactAdd: ["body.items[].email"] });
    expect(fresh.body.redact).toEqual(["body.items[].email"]);
  });

  it("keeps both of two operators' edits made at once", async () => {
    const name = await freshName();
    await putPolicy(name, { ignore: ["header.etag"] });
    // Each operator's view was read before either wrote; each sends only the path they toggle.
    const before = (await getPolicy(name)).body.ignore;
    expect(before).toEqual(["header.etag"]);
    const edits = [
      ...Array.from({ length: 8 }, (_, i) => ({ ignoreAdd: [`body.f${i}`] })),
      { ignoreRemove: ["header.etag"] },
    ];
    const answers = await Promise.all(edits.map((edit) => putPolicy(name, edit)));
    expect(answers.map((answer) => answer.status)).toEqual(edits.map(() => 200));
    const after = (await getPolicy(name)).body.ignore;
    expect([...after].sort()).toEqual(Array.from({ length: 8 }, (_, i) => `body.f${i}`).sort());
  });

  it("takes every kind of difference path the comparison writes", async () => {
    const ignore = [
      "status",
      "header.x-request-id",
      "body",
      "body.items[].price",
      "body[]",
      'body["a.b"].c',
      'body["say \\"hi\\""]',
      "body.$meta._id-2",
    ];
    const res = await putPolicy(await freshName(), { ignore });
    expect(res.status).toBe(200);
    expect(res.body.ignore).toEqual(ignore);
  });

  it("takes the bounds: 200 paths of 256 characters, 20 headers, 0 and 100 percent, ratio 1, delta 0, alpha 0.2", async () => {
    const name = await freshName();
    const long = (i: number) => `body.${String(i).padStart(3, "0")}${"x".repeat(256 - 8)}`;
    const ignore = Array.from({ length: 200 }, (_, i) => long(i));
    expect(ignore.every((path) => path.length === 256)).toBe(true);
    const headers = Array.from({ length: 20 }, (_, i) => `x-h${i}`);
    const res = await putPolicy(name, {
      ignore,
      headers,
      noisePercent: 100,
      gate: {
        minRequests: 1,
        maxDiffRate: 0.0001,
        maxErrorRateIncrease: 1,
        maxP99Ratio: 1,
        passP99Ratio: 1.01,
        minP99DeltaMs: 0,
        alpha: 0.2,
      },
      capture: { percent: 100, methods: null, maxBodyBytes: 1_048_576, retentionHours: 168 },
      notify: null,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ignore,
      headers,
      noisePercent: 100,
      redact: [],
      rules: [],
      gate: {
        minRequests: 1,
        maxDiffRate: 0.0001,
        maxErrorRateIncrease: 1,
        maxP99Ratio: 1,
        passP99Ratio: 1.01,
        minP99DeltaMs: 0,
        alpha: 0.2,
      },
      capture: { percent: 100, methods: null, maxBodyBytes: 1_048_576, retentionHours: 168 },
      notify: null,
    });
  });

  it("changes nothing for an empty object", async () => {
    const name = await freshName();
    await putPolicy(name, { noisePercent: 7 });
    const res = await putPolicy(name, {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...DEFAULTS, noisePercent: 7 });
  });

  it("answers 404 for an unknown name and writes no policy for it", async () => {
    const res = await putPolicy("policy_later", { noisePercent: 50 });
    expect(res.status).toBe(404);
    expect(res.body.error?.code).toBe("service_not_found");
    // Deployed afterwards, the name starts from the defaults: nothing was written.
    expect((await deploy("policy_later", "1.0.0", origins.v1)).status).toBe(201);
    expect((await getPolicy("policy_later")).body).toEqual(DEFAULTS);
  });

  const PATH_SHAPE =
    "must be a difference path: status, header.<lower-case name>, body, or body.<json path> with [] for array indexes and * for identifier keys";
  const invalid: [string, unknown, string, string][] = [
    ["ignore as a string", { ignore: "body.time" }, "ignore", "ignore must be a list of difference paths"],
    ["an upper-case header path", { ignore: ["header.ETag"] }, "ignore.0", `ignore.0 ${PATH_SHAPE}`],
    ["an array index", { ignore: ["body.items[0]"] }, "ignore.0", `ignore.0 ${PATH_SHAPE}`],
    ["an unknown root", { ignore: ["status", "response.time"] }, "ignore.1", `ignore.1 ${PATH_SHAPE}`],
    ["a trailing dot", { ignore: ["body."] }, "ignore.0", `ignore.0 ${PATH_SHAPE}`],
    ["an unclosed quoted key", { ignore: ['body["a'] }, "ignore.0", `ignore.0 ${PATH_SHAPE}`],
    [
      "a path of 257 characters",
      { ignore: [`body.${"x".repeat(252)}`] },
      "ignore.0",
      "ignore.0 must be at most 256 characters",
    ],
    [
      "201 paths",
      { ignore: Array.from({ length: 201 }, (_, i) => `body.f${i}`) },
      "ignore",
      "ignore must list at most 200 paths",
    ],
    ["a path twice", { ignore: ["body.a", "body.a"] }, "ignore", "ignore must not list a path twice"],
    ["ignoreAdd of a bad path", { ignoreAdd: ["body."] }, "ignoreAdd.0", `ignoreAdd.0 ${PATH_SHAPE}`],
    ["an empty ignoreRemove", { ignoreRemove: [] }, "ignoreRemove", "ignoreRemove must name at least one path"],
    [
      "ignore beside ignoreAdd",
      { ignore: ["body.a"], ignoreAdd: ["body.b"] },
      "ignore",
      "body must not set ignore together with ignoreAdd or ignoreRemove: ignore replaces the whole list, the others edit it",
    ],
    [
      "a path both added and removed",
      { ignoreAdd: ["body.a"], ignoreRemove: ["body.a"] },
      "ignoreRemove",
      "ignoreRemove must not name body.a, which ignoreAdd adds",
    ],
    [
      "redactAdd of a header",
      { redactAdd: ["header.x-user"] },
      "redactAdd.0",
      "redactAdd.0 must be query.<parameter> or body.<json path>, such as query.user or body.email",
    ],
    ["an empty redactRemove", { redactRemove: [] }, "redactRemove", "redactRemove must name at least one path"],
    [
      "redact beside redactRemove",
      { redact: ["body.a"], redactRemove: ["body.b"] },
      "redact",
      "body must not set redact together with redactAdd or redactRemove: redact replaces the whole list, the others edit it",
    ],
    [
      "a field both redacted and unredacted",
      { redactAdd: ["query.q"], redactRemove: ["query.q"] },
      "redactRemove",
      "redactRemove must not name query.q, which redactAdd adds",
    ],
    [
      "an upper-case header",
      { headers: ["ETag"] },
      "headers.0",
      "headers.0 must be a lower-case header name such as etag or cache-control",
    ],
    ["an empty header", { headers: [""] }, "headers.0", "headers.0 must not be empty"],
    [
      "21 headers",
      { headers: Array.from({ length: 21 }, (_, i) => `x-h${i}`) },
      "headers",
      "headers must list at most 20 headers",
    ],
    ["a header twice", { headers: ["etag", "etag"] }, "headers", "headers must not list a header twice"],
    ["noisePercent over 100", { noisePercent: 101 }, "noisePercent", "noisePercent must be a number from 0 to 100"],
    ["noisePercent as text", { noisePercent: "5" }, "noisePercent", "noisePercent must be a number from 0 to 100"],
    ["gate as a number", { gate: 3 }, "gate", "gate must be an object of gate thresholds"],
    [
      "minRequests of 0",
      { gate: { minRequests: 0 } },
      "gate.minRequests",
      "gate.minRequests must be a whole number of at least 1",
    ],
    [
      "a fractional minRequests",
      { gate: { minRequests: 1.5 } },
      "gate.minRequests",
      "gate.minRequests must be a whole number of at least 1",
    ],
    [
      "maxDiffRate over 1",
      { gate: { maxDiffRate: 2 } },
      "gate.maxDiffRate",
      "gate.maxDiffRate must be a number above 0 and at most 1 (0.01 is 1 %; 0 could never be met)",
    ],
    [
      "a maxDiffRate of 0, which no evidence could ever meet",
      { gate: { maxDiffRate: 0 } },
      "gate.maxDiffRate",
      "gate.maxDiffRate must be a number above 0 and at most 1 (0.01 is 1 %; 0 could never be met)",
    ],
    [
      "a maxErrorRateIncrease of 0",
      { gate: { maxErrorRateIncrease: 0 } },
      "gate.maxErrorRateIncrease",
      "gate.maxErrorRateIncrease must be a number above 0 and at most 1 (0.01 is 1 point; 0 could never be met)",
    ],
    [
      "a passP99Ratio of 1",
      { gate: { passP99Ratio: 1 } },
      "gate.passP99Ratio",
      "gate.passP99Ratio must be a number above 1 (a shadow as fast as main could never pass at 1)",
    ],
    [
      "an alpha of 0",
      { gate: { alpha: 0 } },
      "gate.alpha",
      "gate.alpha must be a number above 0 and at most 0.2 (0.01 is 1 %)",
    ],
    [
      "an alpha of 0.5",
      { gate: { alpha: 0.5 } },
      "gate.alpha",
      "gate.alpha must be a number above 0 and at most 0.2 (0.01 is 1 %)",
    ],
    [
      "a negative maxErrorRateIncrease",
      { gate: { maxErrorRateIncrease: -0.1 } },
      "gate.maxErrorRateIncrease",
      "gate.maxErrorRateIncrease must be a number above 0 and at most 1 (0.01 is 1 point; 0 could never be met)",
    ],
    [
      "maxP99Ratio under 1",
      { gate: { maxP99Ratio: 0.5 } },
      "gate.maxP99Ratio",
      "gate.maxP99Ratio must be a number of at least 1",
    ],
    [
      "a negative minP99DeltaMs",
      { gate: { minP99DeltaMs: -1 } },
      "gate.minP99DeltaMs",
      "gate.minP99DeltaMs must be a number of ms, at least 0",
    ],
    [
      "a number rule without a tolerance",
      { rules: [{ path: "body.price", match: "number" }] },
      "rules.0",
      "rules.0 must give abs or rel (or both)",
    ],
    [
      "a rule of an unknown match",
      {
        rules: [
          { path: "body.a", match: "present" },
          { path: "body.price", match: "numbr", rel: 1 },
        ],
      },
      "rules.1.match",
      "rules.1.match must be number, unordered, present or format",
    ],
    [
      "a rule outside the body",
      { rules: [{ path: "price", match: "present" }] },
      "rules.0.path",
      "rules.0.path must be a body field path such as body.price or body.items[].id, with * for any key (body.byId.*.price)",
    ],
    [
      "a negative tolerance",
      { rules: [{ path: "body.a", match: "number", rel: -1 }] },
      "rules.0.rel",
      "rules.0.rel must be a number of at least 0",
    ],
    [
      "a pattern that backtracks for ever",
      { rules: [{ path: "body.s", match: "format", format: "^(a+)+$" }] },
      "rules.0.format",
      "rules.0.format must not repeat a group that itself repeats or alternates, such as (a+)+ or (a|b)*: it can take exponential time",
    ],
    [
      "two rules for one path",
      {
        rules: [
          { path: "body.a", match: "present" },
          { path: "body.a", match: "number", abs: 1 },
        ],
      },
      "rules",
      "rules must not have two rules for body.a",
    ],
    [
      "rules beside rulesAdd",
      { rules: [], rulesAdd: [{ path: "body.a", match: "present" }] },
      "rules",
      "body must not set rules together with rulesAdd or rulesRemove: rules replaces the whole list, the others edit it",
    ],
  ];
  it.each(invalid)("answers 422 naming the field for %s, changing nothing", async (_, body, field, message) => {
    const name = await freshName();
    await putPolicy(name, { noisePercent: 9 });
    const res = await putPolicy(name, body);
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({ code: "invalid_field", message, field });
    expect((await getPolicy(name)).body).toEqual({ ...DEFAULTS, noisePercent: 9 });
  });
});

describe("field rules", () => {
  it("are stored, shown, added path by path and removed, and audited", async () => {
    const name = await freshName();
    const price = { path: "body.price", match: "number", rel: 1e-6 };
    const items = { path: "body.items", match: "unordered", key: "id" };
    expect((await putPolicy(name, { rules: [price, items] })).body.rules).toEqual([price, items]);
    const created = { path: "body.createdAt", match: "present" };
    const looser = { path: "body.price", match: "number", abs: 0.01 };
    const res = await putPolicy(name, { rulesAdd: [created, looser], rulesRemove: ["body.items"] });
    expect(res.status).toBe(200);
    expect(res.body.rules).toEqual([created, looser]);
    expect((await getPolicy(name)).body.rules).toEqual([created, looser]);
    const audit = await api<{ audit: { action: string; detail: Record<string, unknown> }[] }>(
      "GET",
      `/audit?name=${name}&limit=1`,
    );
    expect(audit.body.audit[0]).toMatchObject({
      action: "policy",
      detail: { rulesAdd: [created, looser], rulesRemove: ["body.items"] },
    });
  });
});

describe("a policy lives and dies with its name", () => {
  it("survives killing a shadow, and goes when the name is killed", async () => {
    const name = await freshName();
    await putPolicy(name, { ignore: ["body.time"] });
    expect((await api("DELETE", `/services/${name}/2.0.0`)).status).toBe(200);
    expect((await getPolicy(name)).body.ignore).toEqual(["body.time"]);
    expect((await api("DELETE", `/services/${name}`)).status).toBe(200);
    expect((await getPolicy(name)).status).toBe(404);
    expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
    expect((await getPolicy(name)).body).toEqual(DEFAULTS);
  });

  it("goes when the last version is killed by version", async () => {
    const name = await freshName();
    await putPolicy(name, { noisePercent: 1 });
    expect((await api("DELETE", `/services/${name}/2.0.0`)).status).toBe(200);
    expect((await api("DELETE", `/services/${name}/1.0.0`)).status).toBe(200);
    expect((await deploy(name, "3.0.0", origins.v1)).status).toBe(201);
    expect((await getPolicy(name)).body).toEqual(DEFAULTS);
  });
});

import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { FieldRule } from "../../src/evidence/field-rules.ts";
import type { ShadowReport } from "../../src/evidence/verdict.ts";
import { api } from "./admin-client.ts";
import { deploy, gateway, uniqueName } from "./proxy-helpers.ts";

const origins = inject("origins");

/** A name whose main and shadow are the comparison-rules lab's two sides, with rules set through the admin API. */
async function lab(prefix: string, rules?: FieldRule[]): Promise<string> {
  const name = uniqueName(prefix);
  await deploy(name, "1.0.0", origins.compareMain);
  await deploy(name, "2.0.0", origins.compareShadow);
  // No noise copies: each request leaves exactly one comparison.
  const res = await api("PUT", `/services/${name}/policy`, { body: { noisePercent: 0, ...(rules && { rules }) } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return name;
}

/** Sends `count` GETs of `path` and reads every answer whole, as a client would. */
async function send(name: string, path: string, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async (_, k) => {
      const response = await gateway(`/services/${name}${path}`, { headers: { "x-request-id": `${name}-${k}` } });
      await response.arrayBuffer();
    }),
  );
}

/** The shadow's evidence once the ledger holds `count` copies. */
async function evidence(name: string, count: number): Promise<ShadowReport> {
  const deadline = Date.now() + 8_000;
  for (;;) {
    const report = await env.EVIDENCE_LEDGER.getByName(name).report({
      name,
      from: Date.now() - 3_600_000,
      to: Date.now() + 60_000,
      main: "1.0.0",
      shadows: ["2.0.0"],
    });
    const shadow = report.shadows[0] as ShadowReport;
    if (shadow.requests.mirrored >= count || Date.now() > deadline) return shadow;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const fieldsOf = (shadow: ShadowReport) => shadow.fields.map((f) => `${f.path} ${f.kind}`);

/** Sends `count` requests of `path` and answers how they were judged, with the fields that differed. */
async function judged(name: string, path: string, count = 4) {
  await send(name, path, count);
  const shadow = await evidence(name, count);
  const { same, different, notCompared, mirrored } = shadow.requests;
  return { mirrored, same, different, notCompared, fields: fieldsOf(shadow) };
}

beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("exact numbers", () => {
  it("a rewrite that rounds a 64-bit id differs at body.id", async () => {
    const name = await lab("exactid");
    expect(await judged(name, "/id-exact")).toEqual({
      mirrored: 4,
      same: 0,
      different: 4,
      notCompared: 0,
      fields: ["body.id value"],
    });
  });

  it("1.0 and 1, 1e2 and 100 are the same number", async () => {
    const name = await lab("notation");
    expect(await judged(name, "/id-notation")).toMatchObject({ same: 4, different: 0, fields: [] });
  });
});

describe("field rules", () => {
  it("number with rel 1e-6: float dust is the same, a 5 % change differs at body.price", async () => {
    const name = await lab("price", [{ path: "body.price", match: "number", rel: 1e-6 }]);
    expect(await judged(name, "/price-dust")).toMatchObject({ same: 4, different: 0, fields: [] });
    const other = await lab("pricefive", [{ path: "body.price", match: "number", rel: 1e-6 }]);
    expect(await judged(other, "/price-five")).toMatchObject({ different: 4, fields: ["body.price value"] });
  });

  it("without the rule, float dust differs (the rule is what makes it the same)", async () => {
    const name = await lab("dust");
    expect(await judged(name, "/price-dust")).toMatchObject({ different: 4, fields: ["body.price value"] });
  });

  it("unordered by id: a reordered array is the same; one changed q differs at body.items[].q", async () => {
    const rules: FieldRule[] = [{ path: "body.items", match: "unordered", key: "id" }];
    expect(await judged(await lab("reorder", rules), "/items-reordered")).toMatchObject({ same: 4, fields: [] });
    expect(await judged(await lab("reorderq", rules), "/items-changed")).toMatchObject({
      different: 4,
      fields: ["body.items[].q value"],
    });
    expect(await judged(await lab("ordered"), "/items-reordered")).toMatchObject({
      different: 4,
      fields: ["body.items[].id value", "body.items[].q value"],
    });
  });

  it("present on body.createdAt: another timestamp is the same, a missing one differs", async () => {
    const rules: FieldRule[] = [{ path: "body.createdAt", match: "present" }];
    expect(await judged(await lab("created", rules), "/created")).toMatchObject({ same: 4, fields: [] });
    expect(await judged(await lab("createdgone", rules), "/created-missing")).toMatchObject({
      different: 4,
      fields: ["body.createdAt missing"],
    });
  });

  it("format date-time on body.createdAt: two timestamps are the same", async () => {
    const rules: FieldRule[] = [{ path: "body.createdAt", match: "format", format: "date-time" }];
    expect(await judged(await lab("createdfmt", rules), "/created")).toMatchObject({ same: 4, fields: [] });
  });
});

describe("streams", () => {
  it("two identical event streams are the same; a changed price in the fourth event differs at its path", async () => {
    expect(await judged(await lab("ssesame"), "/sse-same")).toMatchObject({ same: 4, notCompared: 0, fields: [] });
    expect(await judged(await lab("ssechanged"), "/sse-changed")).toMatchObject({
      different: 4,
      notCompared: 0,
      fields: ["body.events[].data.price value"],
    });
  });

  it("an NDJSON stream that ends early is a length difference", async () => {
    expect(await judged(await lab("ndjson"), "/ndjson-short")).toMatchObject({
      different: 4,
      fields: ["body.events length"],
    });
  });
});

describe("large bodies", () => {
  it("a 400 KB answer, identical, is the same; with one byte changed it differs at body, kind bytes", async () => {
    expect(await judged(await lab("bigsame"), "/big-same")).toMatchObject({ same: 4, notCompared: 0, fields: [] });
    expect(await judged(await lab("bigchanged"), "/big-changed")).toMatchObject({
      different: 4,
      notCompared: 0,
      fields: ["body bytes"],
    });
  });

  it("a large answer that differs on every call, on main too, is learnt as noise by its digest", async () => {
    const name = await lab("bignoise");
    const res = await api("PUT", `/services/${name}/policy`, { body: { noisePercent: 100 } });
    expect(res.status).toBe(200);
    // Twelve twins: a route's noise excuses nothing before it is bounded (ten twins at least, a band at most 0.5 wide).
    await send(name, "/big-time", 12);
    const shadow = await evidence(name, 12);
    expect(shadow.fields).toEqual([
      expect.objectContaining({ path: "body", kind: "bytes", rate: 1, noiseRate: 1, counts: false }),
    ]);
    expect(shadow.requests).toMatchObject({ different: 0, same: 12, notCompared: 0 });
  });
});

describe("redirects and sessions", () => {
  it("another session id in the same cookie, and another account id in Location, are the same", async () => {
    expect(await judged(await lab("login"), "/login")).toMatchObject({ same: 4, fields: [] });
  });

  it("a redirect to another place differs at header.location; a missing session cookie at header.set-cookie", async () => {
    expect(await judged(await lab("loginwrong"), "/login?shadow=wrong-place")).toMatchObject({
      different: 4,
      fields: ["header.location value"],
    });
    expect(await judged(await lab("nocookie"), "/login?shadow=no-cookie")).toMatchObject({
      different: 4,
      fields: ["header.set-cookie value"],
    });
  });
});

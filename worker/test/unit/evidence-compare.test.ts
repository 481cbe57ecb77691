import { describe, expect, it } from "vitest";
import { type CapturedAnswer, compareAnswers, prepareAnswer } from "../../src/evidence/compare.ts";

function json(body: unknown, extra: Partial<CapturedAnswer> = {}): CapturedAnswer {
  return {
    status: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    bodyComplete: true,
    ...extra,
  };
}

function text(body: string | Uint8Array, extra: Partial<CapturedAnswer> = {}): CapturedAnswer {
  return { status: 200, headers: { "content-type": "text/plain" }, body, bodyComplete: true, ...extra };
}

describe("compareAnswers", () => {
  it("finds nothing when both answers are the same, whatever the key order", () => {
    const result = compareAnswers(json({ a: 1, b: [1, 2], c: { d: null } }), json({ c: { d: null }, b: [1, 2], a: 1 }));
    expect(result).toEqual({ differences: [], body: "compared", capped: false });
  });

  it("names the status and the media type, ignoring content-type parameters and case", () => {
    const main = json({ a: 1 }, { headers: { "content-type": "application/json; charset=utf-8" } });
    const same = json({ a: 1 }, { headers: { "content-type": "Application/JSON" } });
    expect(compareAnswers(main, same).differences).toEqual([]);
    const other = json({ a: 1 }, { status: 201, headers: { "content-type": "application/problem+json" } });
    expect(compareAnswers(main, other).differences).toEqual([
      { path: "status", kind: "value" },
      { path: "header.content-type", kind: "value" },
    ]);
  });

  it("compares only the headers the policy names, as missing, extra or value", () => {
    const main = json({}, { headers: { "content-type": "application/json", etag: "a", "x-a": "1", "x-noise": "1" } });
    const shadow = json({}, { headers: { "content-type": "application/json", etag: "b", "x-b": "1", "x-noise": "2" } });
    expect(compareAnswers(main, shadow, { headers: ["ETag", "x-a", "X-B"] }).differences).toEqual([
      { path: "header.etag", kind: "value" },
      { path: "header.x-a", kind: "missing" },
      { path: "header.x-b", kind: "extra" },
    ]);
  });

  it("gives JSON differences a path with [] for every array index, and a kind", () => {
    const main = json({ price: 10, name: "a", gone: 1, tags: ["x"], items: [{ price: 1 }, { price: 2 }], n: null });
    const shadow = json({
      price: 11,
      name: 3,
      added: true,
      tags: ["x", "y"],
      items: [{ price: 1 }, { price: 3 }],
      n: 0,
    });
    expect(compareAnswers(main, shadow).differences).toEqual([
      { path: "body.price", kind: "value" },
      { path: "body.name", kind: "type" },
      { path: "body.gone", kind: "missing" },
      { path: "body.tags", kind: "length" },
      { path: "body.items[].price", kind: "value" },
      { path: "body.n", kind: "type" },
      { path: "body.added", kind: "extra" },
    ]);
  });

  it("reports a (path, kind) once per exchange however many elements differ", () => {
    const main = json({ items: Array.from({ length: 50 }, (_, i) => ({ price: i, id: i })) });
    const shadow = json({ items: Array.from({ length: 50 }, (_, i) => ({ price: i + 1, id: i })) });
    expect(compareAnswers(main, shadow).differences).toEqual([{ path: "body.items[].price", kind: "value" }]);
  });

  it("reports a shorter array as length, and still compares the elements both have", () => {
    const result = compareAnswers(json([1, 2, 3]), json([1, 5]));
    expect(result.differences).toEqual([
      { path: "body", kind: "length" },
      { path: "body[]", kind: "value" },
    ]);
  });

  it("quotes keys that would read as more than one segment", () => {
    const result = compareAnswers(json({ "a.b": 1, "x y": 1 }), json({ "a.b": 2, "x y": 2 }));
    expect(result.differences.map((d) => d.path)).toEqual(['body["a.b"]', 'body["x y"]']);
  });

  it("compares non-JSON bodies byte for byte, as one `body` difference", () => {
    expect(compareAnswers(text("hello"), text("hello")).differences).toEqual([]);
    expect(compareAnswers(text("hello"), text("hellO")).differences).toEqual([{ path: "body", kind: "value" }]);
    const bytes = new Uint8Array([0, 1, 2, 255]);
    expect(compareAnswers(text(bytes), text(new Uint8Array([0, 1, 2, 255]))).differences).toEqual([]);
    expect(compareAnswers(text(bytes), text(new Uint8Array([0, 1, 2, 254]))).differences).toEqual([
      { path: "body", kind: "value" },
    ]);
  });

  it("compares bytes when only one side is JSON, and treats a missing body as empty", () => {
    expect(compareAnswers(json({ a: 1 }), text("{not json")).differences).toContainEqual({
      path: "body",
      kind: "value",
    });
    const head = { status: 200, headers: {}, bodyComplete: true };
    expect(compareAnswers(head, { ...head, body: "" }).differences).toEqual([]);
  });

  it("does not compare bodies when either one is incomplete, but still compares status and headers", () => {
    const result = compareAnswers(json({ a: 1 }), json({ a: 2 }, { status: 500, bodyComplete: false }));
    expect(result).toEqual({ differences: [{ path: "status", kind: "value" }], body: "notCompared", capped: false });
  });

  it("stops at maxPaths distinct differences and records the cut as body many", () => {
    const main = json(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])));
    const shadow = json(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, -i - 1])));
    const result = compareAnswers(main, shadow, { maxPaths: 10 });
    expect(result.differences).toHaveLength(11);
    expect(result.differences.at(-1)).toEqual({ path: "body", kind: "many" });
    expect(result.capped).toBe(true);
    // Exactly at the limit nothing was left unseen: no cut.
    const ten = compareAnswers(json({ a: 1, b: 1 }), json({ a: 2, b: 2 }), { maxPaths: 2 });
    expect(ten.differences).toEqual([
      { path: "body.a", kind: "value" },
      { path: "body.b", kind: "value" },
    ]);
  });

  it("compares subtrees past maxDepth as a whole, reporting at the depth limit and as cut short", () => {
    const deep = (leaf: number) => ({ a: { b: { c: { d: leaf } } } });
    expect(compareAnswers(json(deep(1)), json(deep(2)), { maxDepth: 2 }).differences).toEqual([
      { path: "body.a.b", kind: "value" },
      { path: "body", kind: "many" },
    ]);
    expect(compareAnswers(json(deep(1)), json(deep(1)), { maxDepth: 2 }).differences).toEqual([]);
  });

  it("survives a document nested far deeper than the depth limit", () => {
    const nested = (leaf: number) => `${"[".repeat(5000)}${leaf}${"]".repeat(5000)}`;
    const deep = (leaf: number) => text(nested(leaf), { headers: { "content-type": "application/json" } });
    expect(compareAnswers(deep(1), deep(1)).differences).toEqual([]);
    const result = compareAnswers(deep(1), deep(2));
    // The array at depth 32 holds the difference somewhere below its elements.
    expect(result.differences).toEqual([
      { path: `body${"[]".repeat(33)}`, kind: "value" },
      { path: "body", kind: "many" },
    ]);
  });

  it("folds identifier keys to *, so a map keyed by ids names one field", () => {
    const byId = (ids: string[], price: number) =>
      json({ byId: Object.fromEntries(ids.map((id) => [id, { price, name: "x" }])) });
    const ids = ["u-12-k3j4h5", "42", "9f1c2e7a-5b3d-4c1e-8a2f-0123456789ab", "a1b2c3d4e5f60718", "x9y8z7"];
    expect(compareAnswers(byId(ids, 1), byId(ids, 2)).differences).toEqual([
      { path: "body.byId.*.price", kind: "value" },
    ]);
    // A field named with one short number is still a field.
    expect(compareAnswers(json({ p99: 1, v2: 1 }), json({ p99: 2, v2: 2 })).differences).toEqual([
      { path: "body.p99", kind: "value" },
      { path: "body.v2", kind: "value" },
    ]);
  });

  it("lets one prepared main answer be compared with several shadows", () => {
    const main = prepareAnswer(json({ a: 1 }));
    expect(compareAnswers(main, json({ a: 1 })).differences).toEqual([]);
    expect(compareAnswers(main, json({ a: 2 })).differences).toEqual([{ path: "body.a", kind: "value" }]);
  });
});

describe("ignore before the cap", () => {
  const regions = (sign: number) =>
    Object.fromEntries(
      Array.from({ length: 78 }, (_, k) => [
        `zone_${"abcdefghijklm"[k % 13]}${"abcdef"[Math.floor(k / 13)]}`,
        sign * k,
      ]),
    );

  it("78 changed keys under an ignored subtree are left out before the 64-difference limit: no body many", () => {
    const main = json({ id: 1, price: 1, regions: regions(1) });
    const shadow = json({ id: 1, price: 2, regions: regions(-1) });
    // Without the ignore list the comparison is cut short and records `body many`.
    expect(compareAnswers(main, shadow).differences).toContainEqual({ path: "body", kind: "many" });
    const ignored = compareAnswers(main, shadow, { ignore: ["body.regions"] });
    expect(ignored).toEqual({ differences: [{ path: "body.price", kind: "value" }], body: "compared", capped: false });
  });

  it("an ignored key's missing, extra and array items are left out too, and a sibling with a longer name is not", () => {
    const main = json({ meta: { a: 1 }, metadata: 1, list: [{ t: 1 }], gone: 1 });
    const shadow = json({ metadata: 2, list: [{ t: 2 }], added: 1, meta2: 1 });
    const result = compareAnswers(main, shadow, { ignore: ["body.meta", "body.list[]", "body.gone", "body.added"] });
    expect(result.differences).toEqual([
      { path: "body.metadata", kind: "value" },
      { path: "body.meta2", kind: "extra" },
    ]);
  });

  it("ignoring body itself drops the cut-short marker of a comparison past the depth limit", () => {
    const deep = (leaf: number) => {
      let value: unknown = leaf;
      for (let i = 0; i < 40; i++) value = { next: value };
      return value;
    };
    expect(compareAnswers(json(deep(1)), json(deep(2))).differences).toContainEqual({ path: "body", kind: "many" });
    expect(compareAnswers(json(deep(1)), json(deep(2)), { ignore: ["body"] }).differences).toEqual([]);
  });
});

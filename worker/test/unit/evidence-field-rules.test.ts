import { describe, expect, it } from "vitest";
import { type CapturedAnswer, compareAnswers } from "../../src/evidence/compare.ts";
import type { FieldRule } from "../../src/evidence/field-rules.ts";
import { patternProblem } from "../../src/evidence/formats.ts";
import { normaliseNumber, parseJsonExact } from "../../src/evidence/json-numbers.ts";

const answer = (body: string): CapturedAnswer => ({
  status: 200,
  headers: { "content-type": "application/json" },
  body,
  bodyComplete: true,
});

const diff = (main: string, shadow: string, rules?: FieldRule[]) =>
  compareAnswers(answer(main), answer(shadow), { rules }).differences.map((d) => `${d.path} ${d.kind}`);

describe("exact numbers", () => {
  it("tells apart 64-bit ids that round to the same double", () => {
    expect(diff('{"id": 9007199254740993}', '{"id": 9007199254740992}')).toEqual(["body.id value"]);
    expect(diff("[12345678901234567890]", "[12345678901234567891]")).toEqual(["body[] value"]);
    expect(diff('{"x": 0.1000000000000000055511151231257827}', '{"x": 0.1}')).toEqual(["body.x value"]);
  });

  it("tells apart short numbers with exponents past what a double holds", () => {
    // 1e400 and 2E+400 are both Infinity as doubles; 4.9e-324 and 5e-324 the same smallest double.
    expect(diff('{"x": 1e400, "y": 4.9e-324}', '{"x": 2E+400, "y": 5e-324}')).toEqual(["body.x value", "body.y value"]);
    expect(diff('{"x": 1e400, "y": 5e-324}', '{"x": 10e399, "y": 5.0e-324}')).toEqual([]);
  });

  it("reads the same number however it is written", () => {
    expect(diff('{"a": 1.0, "b": 1e2, "c": -0, "d": 0.5}', '{"a": 1, "b": 100, "c": 0, "d": 5e-1}')).toEqual([]);
    expect(diff('{"id": 9007199254740993.0}', '{"id": 90071992547409930e-1}')).toEqual([]);
    expect(diff('{"a": 1}', '{"a": 2}')).toEqual(["body.a value"]);
  });

  it("keeps digits inside strings as strings, and parses them without the slow path", () => {
    expect(diff('{"id": "9007199254740993"}', '{"id": "9007199254740992"}')).toEqual(["body.id value"]);
    expect(parseJsonExact('{"id": "9007199254740993", "n": 12}')).toEqual({ id: "9007199254740993", n: 12 });
  });

  it("finds a long number after strings holding quotes, escapes and digits, and in any position", () => {
    const strings = '"a": "say \\"12345678901234567890\\" \\\\", "b": "\\u0022", ';
    expect(diff(`{${strings}"id": 9007199254740993}`, `{${strings}"id": 9007199254740992}`)).toEqual(["body.id value"]);
    expect(diff("[-9007199254740993]", "[-9007199254740992]")).toEqual(["body[] value"]);
    expect(diff('{"n": [1, 2, 12345678901234567890]}', '{"n": [1, 2, 12345678901234567891]}')).toEqual([
      "body.n[] value",
    ]);
    // Floats a program wrote are their doubles' shortest spelling: parsed as plain numbers.
    expect(parseJsonExact('{"p": 43.750000043750006, "q": 1e-300}')).toEqual({ p: 43.750000043750006, q: 1e-300 });
  });

  it("normalises notation to one spelling", () => {
    expect(["1", "1.0", "10e-1", "0.1e1", "1E0"].map(normaliseNumber)).toEqual(["1e0", "1e0", "1e0", "1e0", "1e0"]);
    expect(["-0", "0.000", "0e5"].map(normaliseNumber)).toEqual(["0e0", "0e0", "0e0"]);
    expect(normaliseNumber("-12.5000e+3")).toBe("-125e2");
  });
});

describe("field rules", () => {
  const price = (p: number) => JSON.stringify({ price: p, name: "widget" });

  it("number: float dust within rel is the same, a 5 % change is not", () => {
    const rules: FieldRule[] = [{ path: "body.price", match: "number", rel: 1e-6 }];
    expect(diff(price(10.1), price(10.1 * (1 + 1e-9)), rules)).toEqual([]);
    expect(diff(price(10.1), price(10.1 * 1.05), rules)).toEqual(["body.price value"]);
    expect(diff(price(10.1), price(10.1 * (1 + 1e-9)))).toEqual(["body.price value"]);
  });

  it("number: abs tolerance, and * for any key", () => {
    const rules: FieldRule[] = [{ path: "body.*.total", match: "number", abs: 0.01 }];
    const main = JSON.stringify({ eu: { total: 1.004 }, us: { total: 2 } });
    expect(diff(main, JSON.stringify({ eu: { total: 1.0 }, us: { total: 2.009 } }), rules)).toEqual([]);
    expect(diff(main, JSON.stringify({ eu: { total: 1.0 }, us: { total: 2.5 } }), rules)).toEqual([
      "body.us.total value",
    ]);
  });

  it("unordered by key: another order is the same; a changed, missing or extra element is reported", () => {
    const rules: FieldRule[] = [{ path: "body.items", match: "unordered", key: "id" }];
    const items = (...list: [number, number][]) => JSON.stringify({ items: list.map(([id, q]) => ({ id, q })) });
    const main = items([1, 5], [2, 6], [3, 7]);
    expect(diff(main, items([3, 7], [1, 5], [2, 6]), rules)).toEqual([]);
    expect(diff(main, items([3, 7], [1, 5], [2, 9]), rules)).toEqual(["body.items[].q value"]);
    expect(diff(main, items([3, 7], [1, 5]), rules)).toEqual(["body.items[] missing"]);
    expect(diff(main, items([3, 7], [1, 5], [2, 6], [4, 1]), rules)).toEqual(["body.items[] extra"]);
    expect(diff(main, items([3, 7], [1, 5], [2, 6]))).toEqual(["body.items[].id value", "body.items[].q value"]);
  });

  it("unordered by key: keys pair by what they say, a string id never with a number, a 64-bit id only with itself", () => {
    const rules: FieldRule[] = [{ path: "body.items", match: "unordered", key: "id" }];
    // 9007199254740993 and 9007199254740992 are one double: paired by the double, q 1 would meet q 2.
    const main = '{"items": [{"id": 9007199254740993, "q": 1}, {"id": 9007199254740992, "q": 2}, {"id": 1.0, "q": 3}]}';
    const reordered =
      '{"items": [{"id": 1, "q": 3}, {"id": 9007199254740992, "q": 2}, {"id": 9007199254740993, "q": 1}]}';
    expect(diff(main, reordered, rules)).toEqual([]);
    expect(diff('{"items": [{"id": 1, "q": 1}]}', '{"items": [{"id": "1", "q": 1}]}', rules)).toEqual([
      "body.items[] missing",
      "body.items[] extra",
    ]);
    // An exact number is keyed by its normalised text, apart from strings: a string holding that text is another id.
    const stringId = '{"items": [{"id": "9007199254740993e0", "q": 1}]}';
    expect(diff(stringId, '{"items": [{"id": 9007199254740993, "q": 1}]}', rules)).toEqual([
      "body.items[] missing",
      "body.items[] extra",
    ]);
  });

  it("unordered without a key: elements matched by equality, the rest compared in order", () => {
    const rules: FieldRule[] = [{ path: "body.tags", match: "unordered" }];
    expect(diff('{"tags": ["a", "b", "b", 1.0]}', '{"tags": [1, "b", "a", "b"]}', rules)).toEqual([]);
    expect(diff('{"tags": ["a", "b", "b"]}', '{"tags": ["b", "a", "c"]}', rules)).toEqual(["body.tags[] value"]);
    expect(diff('{"tags": ["a", "b"]}', '{"tags": ["b"]}', rules)).toEqual(["body.tags[] missing"]);
  });

  it("present: another value is the same; a missing field or another type is not", () => {
    const rules: FieldRule[] = [{ path: "body.createdAt", match: "present" }];
    const main = '{"createdAt": "2026-12-06T07:00:00Z", "a": 1}';
    expect(diff(main, '{"createdAt": "2026-12-06T08:30:00Z", "a": 1}', rules)).toEqual([]);
    expect(diff(main, '{"a": 1}', rules)).toEqual(["body.createdAt missing"]);
    expect(diff(main, '{"createdAt": 1733468400, "a": 1}', rules)).toEqual(["body.createdAt type"]);
  });

  it("format: values that both match are the same; one that does not is a value difference", () => {
    const uuid: FieldRule[] = [{ path: "body.items[].id", match: "format", format: "uuid" }];
    const ids = (...list: string[]) => JSON.stringify({ items: list.map((id) => ({ id })) });
    const a = "0b6f8c1e-6a4e-4a53-9d1c-2f1f3d6b8e21";
    const b = "7d0e2d55-1b0c-4f0e-8a86-4a1e0c9f3b10";
    expect(diff(ids(a), ids(b), uuid)).toEqual([]);
    expect(diff(ids(a), ids("not-a-uuid"), uuid)).toEqual(["body.items[].id value"]);
    const pattern: FieldRule[] = [{ path: "body.code", match: "format", format: "^[A-Z]{3}-\\d{4}$" }];
    expect(diff('{"code": "ABC-1234"}', '{"code": "XYZ-9876"}', pattern)).toEqual([]);
    expect(diff('{"code": "ABC-1234"}', '{"code": "XYZ-98765"}', pattern)).toEqual(["body.code value"]);
    const when: FieldRule[] = [{ path: "body.at", match: "format", format: "date-time" }];
    expect(diff('{"at": "2026-12-06T07:00:00Z"}', '{"at": "2026-12-07T09:10:11.5+01:00"}', when)).toEqual([]);
    expect(diff('{"at": "2026-12-06T07:00:00Z"}', '{"at": "yesterday"}', when)).toEqual(["body.at value"]);
  });

  it("refuses patterns that can backtrack for ever, and values too long to test", () => {
    expect(patternProblem("(a+)+$")).toMatch(/exponential/);
    expect(patternProblem("^(a|aa)*$")).toMatch(/exponential/);
    expect(patternProblem("(\\w)\\1")).toMatch(/backreferences/);
    expect(patternProblem("x".repeat(201))).toMatch(/at most 200/);
    expect(patternProblem("(")).toMatch(/regular expression/);
    expect(patternProblem("^(?:[a-z]{2})+-\\d+$")).toBeUndefined();
    const rules: FieldRule[] = [{ path: "body.s", match: "format", format: "^a+$" }];
    expect(diff(`{"s": "${"a".repeat(300)}"}`, `{"s": "${"a".repeat(301)}"}`, rules)).toEqual(["body.s value"]);
  });
});

describe("equal bytes", () => {
  it("are found equal, and one changed byte found, at any alignment of the views", () => {
    const body = new TextEncoder().encode(`{"a": "${"x".repeat(37)}"}`);
    for (const offset of [0, 1, 2, 3]) {
      const padded = new Uint8Array(body.length + offset);
      padded.set(body, offset);
      const view = padded.subarray(offset);
      const answer = (bytes: Uint8Array): CapturedAnswer => ({
        status: 200,
        headers: {},
        body: bytes,
        bodyComplete: true,
      });
      expect(compareAnswers(answer(body), answer(view)).differences).toEqual([]);
      const changed = view.slice();
      changed[changed.length - 3] = 0x79;
      expect(compareAnswers(answer(body), answer(changed)).differences).toEqual([{ path: "body.a", kind: "value" }]);
    }
  });
});

import { describe, expect, it } from "vitest";
import { compareAnswers, type Difference } from "../../src/evidence/compare.ts";
import { boundDifferences } from "../../src/evidence/fields.ts";
import {
  boundedText,
  isDifferencePath,
  isIdentifierKey,
  isWithin,
  PATH_MAX_BYTES,
  segmentOf,
  utf8Length,
} from "../../src/evidence/paths.ts";
import { DIFFERENCE_PATH_MAX_LENGTH } from "../../src/evidence/policy-fields.ts";
import { signatureOf } from "../../src/evidence/verdict.ts";

describe("identifier keys", () => {
  it("fold numbers, dates, UUIDs, long hex and generated-looking keys", () => {
    for (const key of [
      "12",
      "2026-11-30",
      "9f1c2e7a-5b3d-4c1e-8a2f-0123456789ab",
      "9F1C2E7A5B3D4C1E8A2F0123456789AB",
      "deadbeef00112233",
      "u-12-k3j4h5",
      "user_7",
      "order:1009",
      "ab12cd34",
      "x9y8z7",
      "user12345",
    ]) {
      expect([key, isIdentifierKey(key)]).toEqual([key, true]);
      expect(segmentOf(key)).toBe(".*");
    }
  });

  it("keep names, including names with one short number", () => {
    for (const key of ["price", "p99", "v2", "sha256", "ipv4", "created_at", "deadbeef", "", "a b"]) {
      expect([key, isIdentifierKey(key)]).toEqual([key, false]);
    }
    expect(segmentOf("a.b")).toBe('["a.b"]');
  });
});

describe("the path grammar", () => {
  it("accepts what the comparison writes, folded keys included", () => {
    for (const path of ["status", "header.etag", "body", "body.a[].b", 'body["a b"]', "body.byId.*.price"]) {
      expect([path, isDifferencePath(path)]).toEqual([path, true]);
    }
    for (const path of ["", "bodyx", "body.", "body.**", "header.Etag", 'body["a]']) {
      expect([path, isDifferencePath(path)]).toEqual([path, false]);
    }
  });

  it("matches a prefix by whole segment", () => {
    expect(isWithin("body.meta.time", "body.meta")).toBe(true);
    expect(isWithin("body.meta[]", "body.meta")).toBe(true);
    expect(isWithin("body.metadata", "body.meta")).toBe(false);
    expect(isWithin("body.byId.*.price", "body.byId.*")).toBe(true);
  });
});

describe("bounded fields", () => {
  const field = (i: number): Difference => ({
    path: `body.f${"x".repeat(i % 7)}${String.fromCharCode(97 + (i % 26))}`,
    kind: "value",
  });

  it("records fields past the cap as body many, and keeps the known ones", () => {
    const known = new Set<string>();
    const first = [field(0), field(1)];
    expect(boundDifferences(first, known, 2)).toBe(first);
    const next = boundDifferences([field(0), field(2), field(3)], known, 2);
    expect(next).toEqual([field(0), { path: "body", kind: "many" }]);
    expect(known.size).toBe(2);
  });
});

describe("byte bounds", () => {
  const answer = (body: unknown) => ({
    status: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    bodyComplete: true,
  });
  /** Every path is one the policy's ignore list takes, so an operator can always ignore it. */
  const ignorable = (path: string) =>
    isDifferencePath(path) && path.length <= DIFFERENCE_PATH_MAX_LENGTH && utf8Length(path) <= PATH_MAX_BYTES;

  it("fold long keys: sixty 4 KB keys make a signature of a few KB, not 242 KB", () => {
    const keys = Array.from({ length: 60 }, (_, i) => `${String.fromCharCode(97 + (i % 26))}${"k".repeat(4096)}${i}`);
    const main = Object.fromEntries(keys.map((key) => [key, 1]));
    const shadow = Object.fromEntries(keys.map((key) => [key, 2]));
    const { differences } = compareAnswers(answer(main), answer(shadow));
    expect(differences).toEqual([{ path: "body.*", kind: "value" }]);
    const extra = compareAnswers(answer({}), answer(main)).differences;
    expect(signatureOf(extra).length).toBeLessThan(1_000);
  });

  it("cut deep paths of long keys back to whole segments within the cap", () => {
    // Forty levels of 90-byte keys (each short enough to stay a segment, é being two bytes).
    let main: unknown = 1;
    let shadow: unknown = 2;
    for (let level = 0; level < 40; level++) {
      const key = `level${"é".repeat(40)}x${"abcdefghij"[level % 10]}`;
      main = { [key]: main, price: 1 };
      shadow = { [key]: shadow, price: level === 39 ? 2 : 1 };
    }
    const { differences } = compareAnswers(answer(main), answer(shadow));
    expect(differences.map((d) => d.path)).toContain("body.price");
    const deep = differences.find((d) => d.path !== "body.price");
    expect(deep?.path.startsWith('body["level')).toBe(true);
    for (const { path } of differences) expect([path, ignorable(path)]).toEqual([path, true]);
  });

  it("keep a key's or a path's text when it fits", () => {
    expect(segmentOf("k".repeat(90))).toBe(`.${"k".repeat(90)}`);
    expect(segmentOf("k".repeat(200))).toBe(".*");
    expect(segmentOf("é".repeat(60))).toBe(".*");
  });

  it("cut a long text with a marker, never inside a character", () => {
    expect(boundedText("/api/users", PATH_MAX_BYTES)).toBe("/api/users");
    const long = `/api/${"é".repeat(400)}`;
    const cut = boundedText(long, PATH_MAX_BYTES);
    expect(utf8Length(cut)).toBeLessThanOrEqual(PATH_MAX_BYTES);
    expect(cut.endsWith("…")).toBe(true);
    expect(long.startsWith(cut.slice(0, -1))).toBe(true);
    expect(boundedText(`/${"😀".repeat(200)}`, PATH_MAX_BYTES)).toMatch(/^\/(😀)+…$/u);
  });
});

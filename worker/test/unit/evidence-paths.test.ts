import { describe, expect, it } from "vitest";
import type { Difference } from "../../src/evidence/compare.ts";
import { boundDifferences } from "../../src/evidence/fields.ts";
import { isDifferencePath, isIdentifierKey, isWithin, segmentOf } from "../../src/evidence/paths.ts";

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

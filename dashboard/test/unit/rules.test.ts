import { describe, expect, it } from "vitest";
import { describeRule, type FieldRule, ruleOf, takesRule, unorderedSuggestion } from "../../src/rules.ts";

const rules: FieldRule[] = [
  { path: "body.price", match: "number", rel: 1e-6 },
  { path: "body.items", match: "unordered", key: "id" },
  { path: "body.byId.*.total", match: "number", abs: 0.01 },
  { path: "body.meta", match: "present" },
  { path: "body.items[].note", match: "format", format: "uuid" },
];

describe("the rule that governs a field row", () => {
  it("is one written for the row's path, with * for any key", () => {
    expect(ruleOf(rules, "body.price")?.match).toBe("number");
    expect(ruleOf(rules, "body.byId.*.total")?.path).toBe("body.byId.*.total");
    expect(ruleOf(rules, "body.byId.*.count")).toBeUndefined();
  });

  it("reaches into an unordered array or a present field, never from a number rule", () => {
    expect(ruleOf(rules, "body.items[].q")?.path).toBe("body.items");
    expect(ruleOf(rules, "body.items")?.path).toBe("body.items");
    expect(ruleOf(rules, "body.meta.time")?.path).toBe("body.meta");
    expect(ruleOf([{ path: "body.price", match: "number", rel: 1 }], "body.price.cents")).toBeUndefined();
  });

  it("is the nearest one when several reach the row", () => {
    expect(ruleOf(rules, "body.items[].note")?.match).toBe("format");
  });

  it("is none for a look-alike path, the status or a header", () => {
    expect(ruleOf(rules, "body.prices")).toBeUndefined();
    expect(ruleOf(rules, "body.itemsCount")).toBeUndefined();
    expect(ruleOf(rules, "status")).toBeUndefined();
    expect(takesRule("header.etag")).toBe(false);
    expect(takesRule("status")).toBe(false);
    expect(takesRule("body")).toBe(true);
    expect(takesRule('body["odd key"][].id')).toBe(true);
  });
});

describe("order does not matter, offered on a row", () => {
  it("goes on the array holding the field, matched by id when the row is the id", () => {
    expect(unorderedSuggestion("body.items[].id")).toEqual({ path: "body.items", key: "id" });
    expect(unorderedSuggestion("body.items[].q")).toEqual({ path: "body.items", key: "" });
    expect(unorderedSuggestion("body.orders[].lines[].sku")).toEqual({ path: "body.orders[].lines", key: "" });
    expect(unorderedSuggestion("body.tags")).toEqual({ path: "body.tags", key: "" });
  });
});

describe("a rule in words", () => {
  it("says what each rule lets through", () => {
    expect(rules.map(describeRule)).toEqual([
      "number within rel 0.000001",
      "order does not matter (by id)",
      "number within abs 0.01",
      "only presence matters",
      "format uuid",
    ]);
    expect(describeRule({ path: "body.x", match: "number", rel: 0.1, abs: 2 })).toBe("number within rel 0.1 or abs 2");
    expect(describeRule({ path: "body.x", match: "unordered" })).toBe("order does not matter");
  });
});

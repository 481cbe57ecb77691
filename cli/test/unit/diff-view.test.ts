import { describe, expect, it } from "vitest";
import type { DiffSample } from "../../src/client.ts";
import { bodyDiff, comparableBodies, formatSample, terminalPaint } from "../../src/diff-view.ts";

const side = (status: number, body: string, headers: Record<string, string> = {}) => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body,
  truncated: false,
});

const sample = (overrides: Partial<DiffSample>): DiffSample => ({
  at: "2026-11-26T11:02:03.000Z",
  requestId: "req-1",
  method: "GET",
  url: "/services/hello/price?item=7",
  paths: ["body.price"],
  main: side(200, '{"service":"hello","price":10,"path":"/price?item=7"}'),
  shadow: side(200, '{"path":"/price?item=7","price":12,"service":"hello"}'),
  ...overrides,
});

describe("bodies side by side", () => {
  it("pretty-prints JSON with sorted keys, so key order never shows as a difference", () => {
    const bodies = comparableBodies('{"b":1,"a":{"d":2,"c":3}}', '{"a":{"c":3,"d":2},"b":1}');
    expect(bodies.json).toBe(true);
    expect(bodies.main).toBe(bodies.shadow);
    expect(bodyDiff('{"b":1,"a":2}', '{"a":2,"b":1}')).toEqual([]);
  });

  it("keeps non-JSON bodies as they came, and diffs them line by line", () => {
    expect(comparableBodies("<p>hi</p>", '{"a":1}').json).toBe(false);
    expect(bodyDiff("one\ntwo\nthree", "one\n2\nthree")).toEqual([
      "--- main",
      "+++ shadow",
      "@@ -1,3 +1,3 @@",
      " one",
      "-two",
      "+2",
      " three",
    ]);
  });
});

describe("one sampled exchange", () => {
  it("says what was asked, both statuses, where it differs, and the diff of the bodies", () => {
    expect(formatSample(sample({})).split("\n")).toEqual([
      "GET /services/hello/price?item=7",
      "  at 2026-11-26 11:02:03, request id req-1",
      "  status: main 200, shadow 200",
      "  differs at: body.price",
      "  --- main",
      "  +++ shadow",
      "  @@ -1,5 +1,5 @@",
      "   {",
      '     "path": "/price?item=7",',
      '  -  "price": 10,',
      '  +  "price": 12,',
      '     "service": "hello"',
      "   }",
    ]);
  });

  it("shows differing headers with both values, a status-only difference, and cut bodies", () => {
    const text = formatSample(
      sample({
        paths: ["status", "header.etag"],
        main: { ...side(200, "same", { etag: '"a"' }), truncated: true },
        shadow: side(503, "same"),
      }),
    );
    expect(text.split("\n").slice(2)).toEqual([
      "  status: main 200, shadow 503",
      "  differs at: status, header.etag",
      '  header.etag: main "\\"a\\"", shadow (none)',
      "  main's body cut at 8 KiB",
      "  bodies: the same",
    ]);
  });

  it("colours removed and added lines only when asked (a terminal)", () => {
    const plain = formatSample(sample({}));
    expect(plain).not.toContain("\u001B[");
    const painted = formatSample(sample({}), terminalPaint);
    expect(painted).toContain('\u001B[31m-  "price": 10,\u001B[39m');
    expect(painted).toContain('\u001B[32m+  "price": 12,\u001B[39m');
  });
});

describe("origins' text", () => {
  const hostile = "\u001B[2J\u001B]0;pwned\u0007\r\u009B31m";

  it("is printed with every control character escaped, painted or not", () => {
    const text = sample({
      url: `/services/hello/${hostile}`,
      paths: ["body", "header.x-note"],
      main: side(200, `plain ${hostile}`, { "content-type": "text/plain", "x-note": hostile }),
      shadow: side(200, `other ${hostile}`, { "content-type": "text/plain", "x-note": "calm" }),
    });
    for (const paint of [undefined, terminalPaint]) {
      const printed = formatSample(text, paint);
      // What remains of ESC is the paint's own colour codes, and nothing of the origin's.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the paint's escape sequences.
      const withoutPaint = printed.replace(/\u001B\[(?:3[1-9]|1|22)m/g, "");
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters.
      expect(withoutPaint).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/);
      expect(printed).toContain("-plain \\x1b[2J\\x1b]0;pwned\\x07\\x0d\\x9b31m");
      expect(printed).toContain("/services/hello/\\x1b[2J");
      expect(printed).toContain('header.x-note: main "\\u001b[2J');
    }
  });
});

import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { isDifferencePath } from "../../src/evidence/paths.ts";
import { differencePath } from "../../src/evidence/policy-fields.ts";
import {
  hasAtMostTwoDecimals,
  mirrorMethods,
  mirrorPercent,
  normaliseOrigin,
  originUrl,
  parseWindow,
  reportWindow,
  serviceName,
  serviceVersion,
} from "../../src/registry/validation.ts";

describe("service names", () => {
  it.each(["hello", "a", "0", "hello_world", "a_b_c", "v2", "x".repeat(63)])("accepts %s", (name) => {
    expect(v.is(serviceName, name)).toBe(true);
  });

  it.each(["", "Hello", "_hello", "hello_", "hello-world", "hello.world", "héllo", "hello world", "x".repeat(64)])(
    "rejects %j",
    (name) => {
      expect(v.is(serviceName, name)).toBe(false);
    },
  );
});

describe("versions", () => {
  it.each([
    "1.0.0",
    "0.0.1",
    "2.1.0-rc.1",
    "1.0.0-alpha",
    "1.0.0-0.3.7",
    "1.0.0+build.5",
    "10.20.30-beta.2+exp.sha.5114f85",
  ])("accepts %s", (version) => {
    expect(v.is(serviceVersion, version)).toBe(true);
  });

  it.each(["1", "1.0", "v1.0.0", "01.0.0", "1.0.0-01", "1.0.0-", "1.0.0+", "1.0.0_1", "latest", ""])(
    "rejects %j",
    (version) => {
      expect(v.is(serviceVersion, version)).toBe(false);
    },
  );
});

describe("origins", () => {
  it.each([
    ["http://127.0.0.1:3000", "http://127.0.0.1:3000"],
    ["https://hello-v1.example.com/", "https://hello-v1.example.com"],
    ["https://api.example.com/base/path/", "https://api.example.com/base/path"],
    ["HTTP://Example.COM:80/Base", "http://example.com/Base"],
  ])("accepts %s as %s", (raw, expected) => {
    expect(normaliseOrigin(raw)).toEqual({ origin: expected });
  });

  it.each([
    ["example.com", /absolute/],
    ["/relative/path", /absolute/],
    ["ftp://example.com", /http: or https:/],
    ["ws://example.com", /http: or https:/],
    ["https://user:secret@example.com", /credentials/],
    ["https://user@example.com", /credentials/],
    ["https://example.com/#top", /fragment/],
    ["https://example.com/?a=1", /query/],
  ])("rejects %s", (raw, problem) => {
    const result = normaliseOrigin(raw);
    expect(result).toHaveProperty("problem");
    expect("problem" in result && result.problem).toMatch(problem);
  });
});

describe("origin field", () => {
  const longest = `http://a.test/${"p".repeat(2048 - "http://a.test/".length)}`;

  it("normalises what it accepts, up to 2,048 characters", () => {
    expect(v.parse(originUrl, "https://a.test/base/")).toBe("https://a.test/base");
    expect(v.parse(originUrl, longest)).toBe(longest);
  });

  it("refuses a longer origin by its length, without parsing it", () => {
    const result = v.safeParse(originUrl, `${longest}p`);
    expect(result.success).toBe(false);
    expect(result.issues?.map((issue) => issue.message)).toEqual(["must be at most 2048 characters"]);
  });

  it("says what is wrong with a malformed one", () => {
    expect(v.safeParse(originUrl, "ftp://a.test").issues?.[0]?.message).toBe("must use http: or https:, not ftp:");
    expect(v.safeParse(originUrl, 7).issues?.[0]?.message).toBe("must be a string");
  });
});

describe("mirror percent", () => {
  it.each([0, 0.01, 0.07, 0.29, 12.5, 33.33, 99.99, 100])("accepts %d as it is", (percent) => {
    expect(v.parse(mirrorPercent, percent)).toBe(percent);
  });

  it.each([-0.01, 100.01, 12.345, 0.001, 12.3400001, Number.NaN, Number.POSITIVE_INFINITY])("rejects %d", (percent) => {
    expect(v.is(mirrorPercent, percent)).toBe(false);
  });

  it("reads 0.07 × 100 as seven hundredths, not 7.000000000000001", () => {
    expect(hasAtMostTwoDecimals(0.07)).toBe(true);
    expect(hasAtMostTwoDecimals(0.075)).toBe(false);
  });
});

describe("mirror methods", () => {
  it.each([[null], [["GET"]], [["GET", "HEAD", "PATCH", "PROPFIND", "VERSION-CONTROL"]]])("accepts %j", (methods) => {
    expect(v.is(mirrorMethods, methods)).toBe(true);
  });

  it.each([
    [[]],
    [["get"]],
    [["GET", "GET"]],
    [["GET HEAD"]],
    [[""]],
    ["GET"],
    [["-GET"]],
    // Well-formed tokens, but no HTTP method: a typo must not quietly stop a shadow's copies.
    [["GTE"]],
    [["FOO"]],
    [["M-SEARCH"]],
  ])("rejects %j", (methods) => {
    expect(v.is(mirrorMethods, methods)).toBe(false);
  });

  it("says which method was meant", () => {
    const issue = (methods: unknown) => v.safeParse(mirrorMethods, methods).issues?.[0]?.message;
    expect(issue(["GET", "GTE"])).toBe(
      'must be an HTTP method such as GET or POST; "GTE" is not one (did you mean GET?)',
    );
    expect(issue(["get"])).toContain("(did you mean GET?)");
    expect(issue(["PROPFIN"])).toContain("(did you mean PROPFIND?)");
    expect(issue(["FROBNICATE"])).toBe(
      'must be an HTTP method such as GET or POST (RFC 9110 or WebDAV); "FROBNICATE" is not one',
    );
  });
});

describe("difference paths", () => {
  it.each([
    "status",
    "header.content-type",
    "header.x-request-id",
    "body",
    "body.price",
    "body.items[].price",
    "body[]",
    "body[][]",
    'body["a.b"]',
    'body["a\\"b"].c',
    'body["with ] bracket"]',
    "body.$ref",
  ])("accepts %s", (path) => {
    expect(isDifferencePath(path)).toBe(true);
  });

  it.each([
    "",
    "Status",
    "header.",
    "header.Content-Type",
    "headers.etag",
    "body.",
    "body..a",
    "body.items[0]",
    "body[",
    'body["a"',
    'body["a"x',
    'body["\\x"]',
    "body.a b",
    "bodyx",
    "price",
  ])("rejects %j", (path) => {
    expect(isDifferencePath(path)).toBe(false);
  });

  it("bounds the length at 256", () => {
    expect(v.is(differencePath, `body.${"x".repeat(251)}`)).toBe(true);
    expect(v.is(differencePath, `body.${"x".repeat(252)}`)).toBe(false);
  });
});

describe("report windows", () => {
  it.each([
    ["5m", 300_000],
    ["90m", 5_400_000],
    ["1h", 3_600_000],
    ["24h", 86_400_000],
    ["7d", 604_800_000],
  ])("reads %s as %d ms", (text, ms) => {
    expect(v.is(reportWindow, text)).toBe(true);
    expect(parseWindow(text)).toBe(ms);
  });

  it.each(["4m", "8d", "169h", "10081m"])("refuses %s, outside 5m to 7d", (text) => {
    expect(v.is(reportWindow, text)).toBe(false);
  });

  it.each(["", "1", "h", "0m", "01h", "1.5h", "1w", "1H", " 1h", "1h "])("does not read %j", (text) => {
    expect(parseWindow(text)).toBeUndefined();
  });
});

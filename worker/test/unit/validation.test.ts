import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { normaliseOrigin, originUrl, serviceName, serviceVersion } from "../../src/registry/validation.ts";

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

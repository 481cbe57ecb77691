import { describe, expect, it } from "vitest";
import { parseServiceSegment } from "../../src/proxy/segment.ts";

describe("parseServiceSegment", () => {
  it("reads a plain name as a name only", () => {
    expect(parseServiceSegment("foo")).toEqual({ name: "foo" });
    expect(parseServiceSegment("foo_bar")).toEqual({ name: "foo_bar" });
    expect(parseServiceSegment("a")).toEqual({ name: "a" });
  });

  it("reads <name>_<semver> as a pinned version and not as a name", () => {
    expect(parseServiceSegment("foo_1.0.0")).toEqual({ pinned: { name: "foo", version: "1.0.0" } });
    expect(parseServiceSegment("foo_bar_2.1.0-rc.1")).toEqual({ pinned: { name: "foo_bar", version: "2.1.0-rc.1" } });
    expect(parseServiceSegment("svc_1.0.0-alpha_x")).toEqual({});
    expect(parseServiceSegment("svc_1.0.0+build.7")).toEqual({ pinned: { name: "svc", version: "1.0.0+build.7" } });
  });

  it("keeps foo, foobar and foo_bar apart", () => {
    const names = ["foo", "foobar", "foo_bar"].map((s) => parseServiceSegment(s).name);
    expect(names).toEqual(["foo", "foobar", "foo_bar"]);
    expect(parseServiceSegment("foo_bar").pinned).toBeUndefined();
  });

  it("reads nothing from segments that can name no service", () => {
    for (const segment of [
      "",
      "Foo",
      "_foo",
      "foo_",
      "foo-bar",
      "foo.bar",
      "foo_1.0",
      "foo_01.0.0",
      "_1.0.0",
      "foo bar",
    ]) {
      expect(parseServiceSegment(segment), segment).toEqual({});
    }
  });

  it("bounds names at 63 characters, whether plain or pinned", () => {
    const longest = "a".repeat(63);
    expect(parseServiceSegment(longest)).toEqual({ name: longest });
    expect(parseServiceSegment(`${longest}_1.0.0`)).toEqual({ pinned: { name: longest, version: "1.0.0" } });
    expect(parseServiceSegment(`${longest}a`)).toEqual({});
    expect(parseServiceSegment(`${longest}a_1.0.0`)).toEqual({});
  });
});

import { describe, expect, it } from "vitest";
import { withoutCookie } from "../../src/proxy/credentials.ts";

describe("withoutCookie", () => {
  it("takes out every pair of that name and keeps the others in order", () => {
    expect(withoutCookie("a=1; CF_Authorization=x; b=2;CF_Authorization=y", "CF_Authorization")).toBe("a=1; b=2");
    expect(withoutCookie("CF_Authorization=x", "CF_Authorization")).toBe("");
  });

  it("leaves a header that holds no such pair exactly as sent, even when a value mentions the name", () => {
    expect(withoutCookie("a=1;b=CF_Authorization", "CF_Authorization")).toBe("a=1;b=CF_Authorization");
    expect(withoutCookie("cf_authorization=x", "CF_Authorization")).toBe("cf_authorization=x");
  });
});

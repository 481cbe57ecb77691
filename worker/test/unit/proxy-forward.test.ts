import { describe, expect, it } from "vitest";
import {
  decodeSegment,
  forwardedHeaders,
  isUsableRequestId,
  type ServicePath,
  shadowHeaders,
  splitServicePath,
  targetUrl,
} from "../../src/proxy/forward.ts";

describe("splitServicePath", () => {
  it("cuts the segment, the rest and the query without decoding anything", () => {
    expect(splitServicePath("https://gw.example:8443/services/foo/a%2Fb/c?q=%20&x")).toEqual({
      proto: "https",
      host: "gw.example:8443",
      segment: "foo",
      rest: "/a%2Fb/c",
      search: "?q=%20&x",
    });
  });

  it("gives an empty rest for /services/<seg> and a lone slash for /services/<seg>/", () => {
    expect(splitServicePath("http://h/services/foo")).toMatchObject({ segment: "foo", rest: "", search: "" });
    expect(splitServicePath("http://h/services/foo/")).toMatchObject({ segment: "foo", rest: "/" });
    expect(splitServicePath("http://h/services/foo?a=/b")).toMatchObject({ segment: "foo", rest: "", search: "?a=/b" });
  });

  it("refuses paths outside /services/", () => {
    expect(splitServicePath("http://h/servicesfoo/x")).toBeUndefined();
    expect(splitServicePath("http://h/services")).toBeUndefined();
    expect(splitServicePath("http://h/api/v1/services/foo")).toBeUndefined();
  });
});

describe("decodeSegment", () => {
  it("decodes percent-escapes and rejects broken ones", () => {
    expect(decodeSegment("foo")).toBe("foo");
    expect(decodeSegment("foo%5Fbar")).toBe("foo_bar");
    expect(decodeSegment("foo%ZZ")).toBeUndefined();
  });
});

describe("targetUrl", () => {
  it("joins origin, base path, rest and query", () => {
    expect(targetUrl("http://o:1", "", "")).toBe("http://o:1/");
    expect(targetUrl("http://o:1", "/", "?a=1")).toBe("http://o:1/?a=1");
    expect(targetUrl("http://o:1/base/api", "/items/7", "?a=%2F")).toBe("http://o:1/base/api/items/7?a=%2F");
    expect(targetUrl("http://o:1/base", "", "?a")).toBe("http://o:1/base/?a");
  });
});

describe("forwardedHeaders", () => {
  const path: ServicePath = { proto: "https", host: "gw.example", segment: "foo_1.0.0", rest: "/", search: "" };

  it("drops hop-by-hop headers, including those named in Connection", () => {
    const incoming = new Headers({
      connection: "keep-alive, X-Private",
      "x-private": "1",
      "keep-alive": "timeout=5",
      te: "trailers",
      trailer: "x-sum",
      "transfer-encoding": "chunked",
      upgrade: "h2c",
      "proxy-authorization": "Basic x",
      "proxy-connection": "keep-alive",
      "x-kept": "yes",
    });
    const headers = forwardedHeaders(incoming, { path, requestId: "r1", upgrade: false, gatewayId: "daeploy-gw" });
    expect([...headers.keys()].sort()).toEqual(
      ["x-forwarded-host", "x-forwarded-prefix", "x-forwarded-proto", "x-kept", "x-request-id", "via"].sort(),
    );
  });

  it("keeps Upgrade on a WebSocket upgrade", () => {
    const incoming = new Headers({ connection: "Upgrade", upgrade: "websocket" });
    const headers = forwardedHeaders(incoming, { path, requestId: "r1", upgrade: true, gatewayId: "daeploy-gw" });
    expect(headers.get("upgrade")).toBe("websocket");
  });

  it("adds X-Forwarded-* with the matched prefix and the request id", () => {
    const headers = forwardedHeaders(new Headers(), { path, requestId: "r1", upgrade: false, gatewayId: "daeploy-gw" });
    expect(Object.fromEntries(headers)).toEqual({
      "x-forwarded-proto": "https",
      "x-forwarded-host": "gw.example",
      "x-forwarded-prefix": "/services/foo_1.0.0",
      "x-request-id": "r1",
      via: "1.1 daeploy-gw",
    });
  });

  it("appends the client's address to X-Forwarded-For, and adds none it does not know", () => {
    const facts = { path, requestId: "r", upgrade: false, gatewayId: "daeploy-gw" };
    const append = new Headers({ "x-forwarded-for": "10.0.0.1", "cf-connecting-ip": "203.0.113.7" });
    expect(forwardedHeaders(append, facts).get("x-forwarded-for")).toBe("10.0.0.1, 203.0.113.7");
    const first = new Headers({ "cf-connecting-ip": "203.0.113.7" });
    expect(forwardedHeaders(first, facts).get("x-forwarded-for")).toBe("203.0.113.7");
    const unknown = new Headers({ "x-forwarded-for": "10.0.0.1" });
    expect(forwardedHeaders(unknown, facts).get("x-forwarded-for")).toBe("10.0.0.1");
  });

  it("marks only the shadow copy, and strips a marker and proof the client forged", () => {
    const forged = new Headers({ "x-daeploy-shadow": "1", "x-daeploy-shadow-proof": "abc" });
    const main = forwardedHeaders(forged, { path, requestId: "r", upgrade: false, gatewayId: "daeploy-gw" });
    expect(main.has("x-daeploy-shadow")).toBe(false);
    expect(main.has("x-daeploy-shadow-proof")).toBe(false);
    const shadow = shadowHeaders(main, "proof");
    expect(shadow.get("x-daeploy-shadow")).toBe("1");
    expect(shadow.get("x-daeploy-shadow-proof")).toBe("proof");
    expect(main.has("x-daeploy-shadow")).toBe(false);
  });

  it("appends this gateway to the Via that came in", () => {
    const facts = { path, requestId: "r", upgrade: false, gatewayId: "daeploy-gw" };
    const via = forwardedHeaders(new Headers({ via: "1.0 fred, 1.1 p.example (Apache/1.1)" }), facts).get("via");
    expect(via).toBe("1.0 fred, 1.1 p.example (Apache/1.1), 1.1 daeploy-gw");
  });
});

describe("isUsableRequestId", () => {
  it("keeps 1 to 128 visible ASCII characters", () => {
    for (const id of ["a", "req-1_2.3:4/5", "!~", "x".repeat(128)]) expect(isUsableRequestId(id), id).toBe(true);
  });

  it("refuses empty, too long, spaces, controls and non-ASCII", () => {
    for (const id of [null, "", "x".repeat(129), "a b", "tab\there", "é", "ok\u007f"]) {
      expect(isUsableRequestId(id), String(id)).toBe(false);
    }
  });
});

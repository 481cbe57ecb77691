import { describe, expect, it } from "vitest";
import type { ExchangeSample } from "../../src/evidence/batch.ts";
import { isCredentialName, type Redaction, redactedValue, redactSample } from "../../src/evidence/redact.ts";

const key = new TextEncoder().encode("a gateway's redaction key");
const redaction = (paths: string[] = []): Redaction => ({ key, paths });
const REDACTED = /^REDACTED:[0-9a-f]{8}$/;

const side = (headers: Record<string, string>, body: string) => ({ status: 200, headers, body, truncated: false });
const sample = (overrides: Partial<ExchangeSample> = {}): ExchangeSample => ({
  at: "2026-11-30T10:00:00.000Z",
  requestId: "r-1",
  method: "POST",
  url: "/services/shop/login?user=ann&token=t0k3n&item=7",
  paths: ["body.price"],
  main: side({ "content-type": "application/json" }, "{}"),
  shadow: side({ "content-type": "application/json" }, "{}"),
  ...overrides,
});

describe("credential names", () => {
  it.each([
    "token",
    "access_token",
    "apiKey",
    "x-api-key",
    "client_secret",
    "password",
    "sessionId",
    "X-Auth-Token",
    "signature",
    "Authorization",
  ])("%s is a credential's", (name) => {
    expect(isCredentialName(name)).toBe(true);
  });

  it.each(["author", "keyboard", "monkey", "price", "user", "tokenizer"])("%s is not", (name) => {
    expect(isCredentialName(name)).toBe(false);
  });
});

describe("redacting a sample", () => {
  it("removes cookies and authorization from both sides' headers, keeping the rest", () => {
    const headers = {
      "content-type": "text/plain",
      "set-cookie": "session=s3cr3t; HttpOnly",
      authorization: "Bearer abc",
      "proxy-authorization": "Basic xyz",
      cookie: "a=b",
      "x-api-key": "k-1",
      etag: '"v1"',
    };
    const out = redactSample(sample({ main: side(headers, "hi"), shadow: side(headers, "hi") }), redaction());
    for (const s of [out.main, out.shadow]) {
      for (const name of ["set-cookie", "authorization", "proxy-authorization", "cookie", "x-api-key"]) {
        expect(s.headers[name], name).toMatch(REDACTED);
      }
      expect(s.headers.etag).toBe('"v1"');
      expect(s.headers["content-type"]).toBe("text/plain");
      expect(JSON.stringify(s)).not.toContain("s3cr3t");
    }
  });

  it("redacts credential-named and listed query parameters, and nothing else of the URL", () => {
    const out = redactSample(sample(), redaction(["query.user"]));
    expect(out.url).not.toContain("t0k3n");
    expect(out.url).not.toContain("ann");
    expect(out.url).toMatch(
      /^\/services\/shop\/login\?user=REDACTED%3A[0-9a-f]{8}&token=REDACTED%3A[0-9a-f]{8}&item=7$/,
    );
  });

  it("redacts credential-named JSON fields at any depth and listed body paths, arrays included", () => {
    const body = JSON.stringify({
      email: "ann@example.com",
      profile: { password: "hunter2", name: "Ann", tokens: ["a", "b"] },
      items: [{ email: "x@example.com", price: 3 }],
      price: 10,
    });
    const out = redactSample(sample({ main: side({ "content-type": "application/json" }, body) }), {
      key,
      paths: ["body.email", "body.items[].email"],
    });
    const parsed = JSON.parse(out.main.body);
    expect(parsed.email).toMatch(REDACTED);
    expect(parsed.profile.password).toMatch(REDACTED);
    expect(parsed.profile.tokens).toMatch(REDACTED);
    expect(parsed.profile.name).toBe("Ann");
    expect(parsed.items[0].email).toMatch(REDACTED);
    expect(parsed.items[0].price).toBe(3);
    expect(parsed.price).toBe(10);
    for (const secret of ["ann@example.com", "hunter2", "x@example.com"]) expect(out.main.body).not.toContain(secret);
  });

  it("redacts credential pairs in a JSON body cut short, and form bodies", () => {
    const cut = '{"user":"ann","session":"abc123","note":"long text that was cut he';
    const form = "user=ann&password=hunter2&email=ann%40example.com";
    const out = redactSample(
      sample({
        main: side({ "content-type": "application/json" }, cut),
        shadow: side({ "content-type": "application/x-www-form-urlencoded" }, form),
      }),
      redaction(["body.email"]),
    );
    expect(out.main.body).not.toContain("abc123");
    expect(out.main.body).toContain('"user":"ann"');
    expect(out.shadow.body).not.toContain("hunter2");
    expect(out.shadow.body).not.toContain("ann%40example.com");
    expect(out.shadow.body).toMatch(/^user=ann&password=REDACTED%3A[0-9a-f]{8}&email=REDACTED%3A[0-9a-f]{8}$/);
  });

  it("redacts the query where an origin echoes it: in a JSON string, an HTML link, a Location header", () => {
    const json = JSON.stringify({ path: "/cart?user=ann&token=t0k3n&item=7" });
    const html = '<a href="/next?session=s3ss&page=2">next</a>';
    const out = redactSample(
      sample({
        main: side({ "content-type": "application/json", location: "/login?token=t0k3n" }, json),
        shadow: side({ "content-type": "text/html" }, html),
      }),
      redaction(["query.user"]),
    );
    expect(JSON.parse(out.main.body).path).toMatch(
      /^\/cart\?user=REDACTED%3A[0-9a-f]{8}&token=REDACTED%3A[0-9a-f]{8}&item=7$/,
    );
    expect(out.main.headers.location).toMatch(/^\/login\?token=REDACTED%3A[0-9a-f]{8}$/);
    expect(out.shadow.body).toMatch(/^<a href="\/next\?session=REDACTED%3A[0-9a-f]{8}&page=2">next<\/a>$/);
  });

  it("redacts equal values equally, different values differently, and under another key differently", () => {
    expect(redactedValue(key, "s3cr3t")).toBe(redactedValue(key, "s3cr3t"));
    expect(redactedValue(key, "s3cr3t")).not.toBe(redactedValue(key, "s3cr3t!"));
    expect(redactedValue(new TextEncoder().encode("another gateway"), "s3cr3t")).not.toBe(redactedValue(key, "s3cr3t"));
    const same = side({ "set-cookie": "session=1" }, JSON.stringify({ token: "t" }));
    const out = redactSample(sample({ main: same, shadow: same }), redaction());
    expect(out.main).toEqual(out.shadow);
  });

  it("leaves a body with nothing to redact exactly as it was", () => {
    const body = '{\n  "price": 10\n}';
    const out = redactSample(sample({ main: side({ "content-type": "application/json" }, body) }), redaction());
    expect(out.main.body).toBe(body);
  });
});

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
    "pass",
    "user_pass",
    "pin",
    "cardPin",
    "access",
    "refresh",
    "code_verifier",
  ])("%s is a credential's", (name) => {
    expect(isCredentialName(name)).toBe(true);
  });

  it.each([
    "author",
    "keyboard",
    "monkey",
    "price",
    "user",
    "tokenizer",
    "passenger",
    "pinned",
    "accessLevel",
    "refreshRate",
    "statusCode",
    "state",
  ])("%s is not", (name) => {
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

/** A JWT as identity providers issue them: base64url header, payload and signature. */
const jwt = (subject: string) =>
  [
    { alg: "HS256", typ: "JWT" },
    { sub: subject, exp: 1_900_000_000 },
  ]
    .map((part) => btoa(JSON.stringify(part)).replaceAll("=", "").replaceAll("+", "-").replaceAll("/", "_"))
    .concat("c2lnbmF0dXJlLW9mLXRoZS10b2tlbg")
    .join(".");

describe("redacting what real apps leak", () => {
  const json = (body: unknown, headers: Record<string, string> = {}) =>
    side({ "content-type": "application/json", ...headers }, JSON.stringify(body));

  it("OAuth's code and state in the query, and tokens in a Location's fragment", () => {
    const location = "https://app.example.com/cb#access_token=fr4g-t0k3n&token_type=bearer&state=st4te&expires_in=60";
    const out = redactSample(
      sample({
        url: "/services/shop/oauth/callback?code=c0de-123&state=st4te&lang=en",
        main: json({ ok: true }, { location }),
      }),
      redaction(),
    );
    expect(out.url).toMatch(
      /^\/services\/shop\/oauth\/callback\?code=REDACTED%3A[0-9a-f]{8}&state=REDACTED%3A[0-9a-f]{8}&lang=en$/,
    );
    expect(out.main.headers.location).toMatch(
      /^https:\/\/app\.example\.com\/cb#access_token=REDACTED%3A[0-9a-f]{8}&token_type=REDACTED%3A[0-9a-f]{8}&state=REDACTED%3A[0-9a-f]{8}&expires_in=60$/,
    );
  });

  it("a JWT wherever it stands: a header of any name, the query, a string inside JSON, plain text", () => {
    const token = jwt("ann");
    const out = redactSample(
      sample({
        url: `/services/shop/verify?t=${token}`,
        main: json({ note: `signed in with ${token} today`, nested: [{ any: token }] }, { "x-id": token }),
        shadow: side({ "content-type": "text/plain" }, `token ${token}.`),
      }),
      redaction(),
    );
    expect(JSON.stringify(out)).not.toContain(token.split(".")[1]);
    expect(out.main.headers["x-id"]).toMatch(REDACTED);
    expect(JSON.parse(out.main.body).note).toMatch(/^signed in with REDACTED:[0-9a-f]{8} today$/);
    expect(out.shadow.body).toMatch(/^token REDACTED:[0-9a-f]{8}\.$/);
  });

  it("fields named pass, pin, access and refresh, and whatever a credential-named key holds", () => {
    const body = {
      pass: "p4ss",
      pin: "1234",
      access: jwt("ann"),
      refresh: "r3fr3sh",
      credentials: { client: "c1", nested: ["deep-s3cr3t"] },
      accessLevel: "admin",
    };
    const out = JSON.parse(redactSample(sample({ main: json(body) }), redaction()).main.body);
    for (const field of ["pass", "pin", "access", "refresh", "credentials"])
      expect(out[field], field).toMatch(REDACTED);
    expect(out.accessLevel).toBe("admin");
  });

  it("a credential-named object or array cut at the sample size goes whole, to the cut", () => {
    const cut = '{"user":"ann","tokens":["t-1","t-2",{"id":"t-3","scope":"all the wa';
    const object = '{"id":7,"session":{"owner":"ann","data":{"cart":"c4rt-of-ann","x":[1,2';
    const out = redactSample(
      sample({ main: side({ "content-type": "application/json" }, cut), shadow: side({}, object) }),
      redaction(),
    );
    expect(out.main.body).toMatch(/^\{"user":"ann","tokens":"REDACTED:[0-9a-f]{8}"$/);
    expect(out.shadow.body).toMatch(/^\{"id":7,"session":"REDACTED:[0-9a-f]{8}"$/);
  });

  it("redact paths with * for any key, in whole and cut bodies", () => {
    const body = JSON.stringify({
      users: { "u-1": { email: "ann@example.com", name: "Ann" }, "u-2": { email: "bob@example.com", name: "Bob" } },
      owner: { email: "kept@example.com" },
    });
    const paths = ["body.users.*.email"];
    const whole = JSON.parse(redactSample(sample({ main: json(JSON.parse(body)) }), redaction(paths)).main.body);
    expect(whole.users["u-1"].email).toMatch(REDACTED);
    expect(whole.users["u-2"].email).toMatch(REDACTED);
    expect(whole.users["u-2"].name).toBe("Bob");
    expect(whole.owner.email).toBe("kept@example.com");
    const cut = redactSample(sample({ main: side({}, body.slice(0, 60)) }), redaction(paths)).main.body;
    expect(cut).not.toContain("ann@example.com");
    expect(cut).toContain('"u-1":{"email":"REDACTED:');
  });

  it("keeps text that only looks like JSON, and 8 KiB of nesting, without throwing", () => {
    const deep = "[".repeat(8192);
    expect(redactSample(sample({ main: side({}, deep) }), redaction()).main.body).toBe(deep);
    const page = '{ not json } <script>var cfg = {"apiKey": "k-123", "theme": "dark"}</script>';
    const out = redactSample(sample({ main: side({ "content-type": "text/html" }, page) }), redaction()).main.body;
    expect(out).not.toContain("k-123");
    expect(out).toContain('"theme": "dark"');
  });
});

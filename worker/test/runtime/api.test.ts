import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import worker from "../../src/index.ts";
import { api, deploy, versionsOf } from "./admin-client.ts";

const origins = inject("origins");

describe("authentication", () => {
  const everyRoute: [string, string, unknown?][] = [
    ["GET", "/services"],
    ["POST", "/services", { name: "auth", version: "1.0.0", origin: "http://127.0.0.1:1", check: false }],
    ["GET", "/services/auth"],
    ["PUT", "/services/auth/main", { version: "1.0.0" }],
    ["DELETE", "/services/auth/1.0.0"],
    ["DELETE", "/services/auth"],
    ["PATCH", "/services/auth/1.0.0", { mirrorPercent: 5 }],
    ["GET", "/services/auth/policy"],
    ["PUT", "/services/auth/policy", { noisePercent: 1 }],
    ["GET", "/services/auth/report"],
    ["GET", "/services/auth/1.0.0/diffs"],
    ["GET", "/openapi.json"],
  ];
  const badHeaders: [string, string | null][] = [
    ["a missing header", null],
    ["a wrong token", "Bearer not-the-token"],
    ["a non-Bearer scheme", "Basic dGVzdC10b2tlbg=="],
    ["a bare token", "test-token"],
    ["an empty Bearer", "Bearer "],
  ];

  for (const [method, path, body] of everyRoute) {
    it.each(badHeaders)(`${method} ${path} answers 401 for %s`, async (_, authorization) => {
      const res = await api(method, path, { body, authorization });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
      expect(res.body.error?.code).toBe("unauthorized");
    });
  }

  it("changes nothing when a write is refused", async () => {
    await api("POST", "/services", { body: everyRoute[1]?.[2], authorization: "Bearer nope" });
    expect(await versionsOf("auth")).toEqual([]);
  });

  it("refuses every call, saying how to set the token, when ADMIN_TOKEN is unset", async () => {
    for (const [method, path, body] of everyRoute) {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(`http://gateway.test/api/v1${path}`, {
          method,
          headers: { authorization: "Bearer anything", "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
        { ...env, ADMIN_TOKEN: undefined },
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(res.status).toBe(503);
      const json = (await res.json()) as { error: { code: string; message: string } };
      expect(json.error.code).toBe("admin_token_unset");
      expect(json.error.message).toContain("wrangler secret put ADMIN_TOKEN");
    }
    expect(await versionsOf("auth")).toEqual([]);
  });
});

describe("deploy", () => {
  it("answers 201 with the record, and the first version is main (I2)", async () => {
    const res = await deploy("first", "1.0.0", `${origins.v1}/`);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: "first",
      version: "1.0.0",
      origin: origins.v1,
      main: true,
      status: "unknown",
    });
    expect(Date.parse(res.body.createdAt ?? "")).not.toBeNaN();
    expect(Date.parse(res.body.statusSince ?? "")).not.toBeNaN();
  });

  it("makes every later version a shadow (I2)", async () => {
    await deploy("later", "1.0.0", origins.v1);
    const second = await deploy("later", "2.0.0", origins.v2);
    const third = await deploy("later", "3.0.0-rc.1", origins.v2);
    expect(second.body.main).toBe(false);
    expect(third.body.main).toBe(false);
    expect((await versionsOf("later")).map((s) => [s.version, s.main])).toEqual([
      ["1.0.0", true],
      ["2.0.0", false],
      ["3.0.0-rc.1", false],
    ]);
  });

  it("refuses an existing version with 409 and never replaces it (I5)", async () => {
    await deploy("twice", "1.0.0", origins.v1);
    const again = await deploy("twice", "1.0.0", origins.v2);
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe("version_exists");
    expect((await versionsOf("twice")).map((s) => s.origin)).toEqual([origins.v1]);
  });

  it("answers 409 for an existing version before waiting on its origin", async () => {
    await deploy("twice_checked", "1.0.0", origins.v1);
    const again = await deploy("twice_checked", "1.0.0", origins.dead, true);
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe("version_exists");
  });

  it("checks that the origin answers, any status counting, and records it as running", async () => {
    const ok = await deploy("checked", "1.0.0", origins.v1, true);
    expect(ok.status).toBe(201);
    expect(ok.body.status).toBe("running");
    const failing = await deploy("checked", "2.0.0", origins.v3, true); // answers 503
    expect(failing.status).toBe(201);
    expect(failing.body.status).toBe("running");
  });

  it("refuses an origin that does not answer with 422 naming the origin, and writes nothing", async () => {
    const res = await api("POST", "/services", {
      body: { name: "unreachable", version: "1.0.0", origin: origins.dead },
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "origin_unreachable", field: "origin" });
    expect(res.body.error?.message).toContain(origins.dead);
    expect(res.body.error?.message).toContain("--no-check");
    expect(res.body.error?.message).toContain(`"check": false`);
    expect(await versionsOf("unreachable")).toEqual([]);
  });

  it("skips the check with check: false", async () => {
    const res = await deploy("unchecked", "1.0.0", origins.dead, false);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("unknown");
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ["an upper-case name", { name: "Hello", version: "1.0.0", origin: "http://a.test" }, "name"],
    ["a name ending in _", { name: "hello_", version: "1.0.0", origin: "http://a.test" }, "name"],
    ["a 64-character name", { name: "x".repeat(64), version: "1.0.0", origin: "http://a.test" }, "name"],
    ["a missing name", { version: "1.0.0", origin: "http://a.test" }, "name"],
    ["a numeric name", { name: 7, version: "1.0.0", origin: "http://a.test" }, "name"],
    ["a non-SemVer version", { name: "bad", version: "1.0", origin: "http://a.test" }, "version"],
    ["a v-prefixed version", { name: "bad", version: "v1.0.0", origin: "http://a.test" }, "version"],
    ["a relative origin", { name: "bad", version: "1.0.0", origin: "hello.local" }, "origin"],
    ["an ftp origin", { name: "bad", version: "1.0.0", origin: "ftp://a.test" }, "origin"],
    ["an origin with credentials", { name: "bad", version: "1.0.0", origin: "http://u:p@a.test" }, "origin"],
    ["an origin with a fragment", { name: "bad", version: "1.0.0", origin: "http://a.test/#x" }, "origin"],
    ["a non-boolean check", { name: "bad", version: "1.0.0", origin: "http://a.test", check: "no" }, "check"],
  ];
  it.each(invalid)("answers 422 naming the field for %s", async (_, body, field) => {
    const res = await api("POST", "/services", { body });
    expect(res.status).toBe(422);
    expect(res.body.error?.field).toBe(field);
    expect(res.body.error?.message.startsWith(`${field} `)).toBe(true);
  });

  it.each([
    ["a number for a name", { name: 123, version: "1.0.0", origin: "http://a.test" }, "name must be a string"],
    ["a list for a version", { name: "t", version: ["1.0.0"], origin: "http://a.test" }, "version must be a string"],
    ["an object for an origin", { name: "t", version: "1.0.0", origin: { url: "x" } }, "origin must be a string"],
    [
      "a string for check",
      { name: "t", version: "1.0.0", origin: "http://a.test", check: "false" },
      "check must be true or false",
    ],
    ["a missing origin", { name: "t", version: "1.0.0" }, "origin is required"],
  ])("says what a field must be for %s", async (_, body, message) => {
    const res = await api("POST", "/services", { body });
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({ code: "invalid_field", message, field: message.split(" ")[0] });
  });

  it("answers 422 naming origin for an origin over 2,048 characters, and takes one of exactly 2,048", async () => {
    const base = "http://127.0.0.1:1/";
    const longest = base + "p".repeat(2048 - base.length);
    const refused = await api("POST", "/services", {
      body: { name: "long_origin", version: "1.0.0", origin: `${longest}p`, check: false },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ field: "origin", message: "origin must be at most 2048 characters" });
    expect(await versionsOf("long_origin")).toEqual([]);
    const taken = await deploy("long_origin", "1.0.0", longest);
    expect(taken.status).toBe(201);
    expect(taken.body.origin).toBe(longest);
  });

  it("answers 413 body_too_large for a body over 64 KiB of declared length, and writes nothing", async () => {
    const body = JSON.stringify({
      name: "big_body",
      version: "1.0.0",
      origin: "http://a.test",
      check: false,
      pad: "x".repeat(64 * 1024),
    });
    const res = await api("POST", "/services", { rawBody: body });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: "body_too_large", field: "body" });
    expect(await versionsOf("big_body")).toEqual([]);
  });

  it("stops reading a chunked body once it passes 64 KiB, and answers 413", async () => {
    // A stream that could go on for 100 MiB; the gateway must give up long before that.
    const chunk = new TextEncoder().encode(`{"pad":"${"x".repeat(16 * 1024)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 100 * 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await exports.default.fetch("http://gateway.test/api/v1/services", {
      method: "POST",
      headers: { authorization: "Bearer test-token", "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("body_too_large");
    expect(sent).toBeLessThan(1024 * 1024);
  });

  it("takes a body of just under 64 KiB", async () => {
    // Padded with white space: every field of the body must be one the route knows.
    const body = JSON.stringify({ name: "near_limit", version: "1.0.0", origin: "http://a.test", check: false });
    const res = await api("POST", "/services", { rawBody: body + " ".repeat(64 * 1024 - body.length) });
    expect(res.status).toBe(201);
  });

  it("answers 415 saying how to send the body when it is not JSON, and writes nothing", async () => {
    const res = await exports.default.fetch("http://gateway.test/api/v1/services", {
      method: "POST",
      headers: { authorization: "Bearer test-token", "content-type": "application/x-www-form-urlencoded" },
      body: "name=formed&version=1.0.0&origin=http://127.0.0.1:1",
    });
    expect(res.status).toBe(415);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("unsupported_media_type");
    expect(body.error.message).toContain("Content-Type: application/json");
    expect(await versionsOf("formed")).toEqual([]);
  });

  it("writes nothing for invalid input", async () => {
    await api("POST", "/services", { body: { name: "bad", version: "1.0", origin: origins.v1 } });
    expect(await versionsOf("bad")).toEqual([]);
  });

  it.each([
    ["malformed JSON", "{name:"],
    ["a JSON array", "[]"],
    ["an empty body", ""],
  ])("answers 4xx JSON, never 500, for %s", async (_, rawBody) => {
    const res = await api("POST", "/services", { rawBody });
    expect([400, 422]).toContain(res.status);
    expect(res.body.error?.message).toBeTruthy();
  });
});

describe("listing", () => {
  it("lists every version, or one name's with ?name=", async () => {
    await deploy("list_a", "1.0.0", origins.v1);
    await deploy("list_b", "1.0.0", origins.v1);
    await deploy("list_b", "1.1.0", origins.v2);
    const all = await api("GET", "/services");
    expect(all.status).toBe(200);
    const names = (all.body.services ?? []).map((s) => `${s.name} ${s.version}`);
    expect(names).toEqual(expect.arrayContaining(["list_a 1.0.0", "list_b 1.0.0", "list_b 1.1.0"]));
    const one = await api("GET", "/services?name=list_b");
    expect((one.body.services ?? []).map((s) => s.version)).toEqual(["1.0.0", "1.1.0"]);
  });

  it("answers 422 saying so for a repeated ?name=", async () => {
    const res = await api("GET", "/services?name=a&name=b");
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ field: "name", message: "name must be given once, not 2 times" });
  });

  it("answers 422 for an invalid ?name=", async () => {
    const res = await api("GET", "/services?name=Not-A-Name");
    expect(res.status).toBe(422);
    expect(res.body.error?.field).toBe("name");
  });

  it("GET /services/:name answers 200 with the versions, 404 for an unknown name", async () => {
    await deploy("one_name", "1.0.0", origins.v1);
    const found = await api("GET", "/services/one_name");
    expect(found.status).toBe(200);
    expect(found.body.services?.map((s) => s.version)).toEqual(["1.0.0"]);
    const missing = await api("GET", "/services/nobody_here");
    expect(missing.status).toBe(404);
    expect(missing.body.error?.code).toBe("service_not_found");
  });
});

describe("assign (I6)", () => {
  it("makes a shadow the main and answers with the name's versions", async () => {
    await deploy("assign_ok", "1.0.0", origins.v1);
    await deploy("assign_ok", "2.0.0", origins.v2);
    const res = await api("PUT", "/services/assign_ok/main", { body: { version: "2.0.0" } });
    expect(res.status).toBe(200);
    expect(res.body.changed).toBe(true);
    expect(res.body.services?.map((s) => [s.version, s.main])).toEqual([
      ["1.0.0", false],
      ["2.0.0", true],
    ]);
  });

  it("is a 200 no-op for the current main, saying that nothing changed", async () => {
    await deploy("assign_noop", "1.0.0", origins.v1);
    await deploy("assign_noop", "2.0.0", origins.v2);
    const before = await versionsOf("assign_noop");
    const res = await api("PUT", "/services/assign_noop/main", { body: { version: "1.0.0" } });
    expect(res.status).toBe(200);
    expect(res.body.changed).toBe(false);
    expect(res.body.services).toEqual(before);
    expect(res.body.services?.filter((s) => s.main).map((s) => s.version)).toEqual(["1.0.0"]);
  });

  it("answers 404 for a version or name that does not exist, changing nothing", async () => {
    await deploy("assign_404", "1.0.0", origins.v1);
    const version = await api("PUT", "/services/assign_404/main", { body: { version: "9.9.9" } });
    expect(version.status).toBe(404);
    expect(version.body.error?.code).toBe("version_not_found");
    const name = await api("PUT", "/services/nobody_here/main", { body: { version: "1.0.0" } });
    expect(name.status).toBe(404);
    expect((await versionsOf("assign_404")).map((s) => s.main)).toEqual([true]);
  });

  it("answers 422 for a missing or invalid version", async () => {
    const missing = await api("PUT", "/services/assign_404/main", { body: {} });
    expect(missing.status).toBe(422);
    expect(missing.body.error).toMatchObject({ field: "version", message: "version is required" });
    const invalid = await api("PUT", "/services/assign_404/main", { body: { version: "latest" } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error?.field).toBe("version");
  });
});

describe("kill (I3, I4)", () => {
  it("refuses a main that still has shadows with 403 naming them, and keeps it", async () => {
    await deploy("kill_main", "1.0.0", origins.v1);
    await deploy("kill_main", "2.0.0", origins.v2);
    const res = await api("DELETE", "/services/kill_main/1.0.0");
    expect(res.status).toBe(403);
    expect(res.body.error?.code).toBe("main_has_shadows");
    expect(res.body.error?.message).toContain("kill_main 2.0.0");
    expect(res.body.error?.message).toMatch(/assign another main/);
    expect((await versionsOf("kill_main")).length).toBe(2);
  });

  it("kills a shadow freely, then the main once it is alone (I1 holds throughout)", async () => {
    await deploy("kill_seq", "1.0.0", origins.v1);
    await deploy("kill_seq", "2.0.0", origins.v2);
    const shadow = await api("DELETE", "/services/kill_seq/2.0.0");
    expect(shadow.status).toBe(200);
    expect(shadow.body.killed?.map((s) => s.version)).toEqual(["2.0.0"]);
    expect((await versionsOf("kill_seq")).map((s) => [s.version, s.main])).toEqual([["1.0.0", true]]);
    const main = await api("DELETE", "/services/kill_seq/1.0.0");
    expect(main.status).toBe(200);
    expect(await versionsOf("kill_seq")).toEqual([]);
  });

  it("kills every version of a name at once, shadows included", async () => {
    await deploy("kill_all", "1.0.0", origins.v1);
    await deploy("kill_all", "2.0.0", origins.v2);
    await deploy("kill_all", "3.0.0", origins.v2);
    const res = await api("DELETE", "/services/kill_all");
    expect(res.status).toBe(200);
    expect(res.body.killed?.map((s) => s.version).sort()).toEqual(["1.0.0", "2.0.0", "3.0.0"]);
    expect(await versionsOf("kill_all")).toEqual([]);
  });

  it("answers 404 for an unknown version or name", async () => {
    await deploy("kill_404", "1.0.0", origins.v1);
    expect((await api("DELETE", "/services/kill_404/2.0.0")).status).toBe(404);
    expect((await api("DELETE", "/services/nobody_here/1.0.0")).status).toBe(404);
    expect((await api("DELETE", "/services/nobody_here")).status).toBe(404);
  });

  it("answers 422 for an invalid name or version in the path", async () => {
    const name = await api("DELETE", "/services/Bad-Name");
    expect(name.status).toBe(422);
    expect(name.body.error?.field).toBe("name");
    const version = await api("DELETE", "/services/kill_404/one");
    expect(version.status).toBe(422);
    expect(version.body.error?.field).toBe("version");
  });

  it("lets a name be deployed afresh after it was killed, the first version main again", async () => {
    await deploy("reborn", "1.0.0", origins.v1);
    await api("DELETE", "/services/reborn");
    const again = await deploy("reborn", "2.0.0", origins.v2);
    expect(again.status).toBe(201);
    expect(again.body.main).toBe(true);
  });
});

describe("OpenAPI", () => {
  it("describes every admin route at /api/v1/openapi.json", async () => {
    const res = await api("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.body as unknown as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths.services ?? doc.paths["/services"] ?? {}).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/services/{name}"] ?? {}).sort()).toEqual(["delete", "get"]);
    expect(Object.keys(doc.paths["/services/{name}/main"] ?? {})).toEqual(["put"]);
    expect(Object.keys(doc.paths["/services/{name}/{version}"] ?? {}).sort()).toEqual(["delete", "patch"]);
    expect(Object.keys(doc.paths["/services/{name}/policy"] ?? {}).sort()).toEqual(["get", "put"]);
    expect(Object.keys(doc.paths["/services/{name}/report"] ?? {})).toEqual(["get"]);
    expect(Object.keys(doc.paths["/services/{name}/{version}/diffs"] ?? {})).toEqual(["get"]);
  });
});

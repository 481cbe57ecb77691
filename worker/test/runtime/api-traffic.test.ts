import { describe, expect, inject, it } from "vitest";
import { HTTP_METHODS } from "../../src/registry/http-methods.ts";
import { api, deploy, versionsOf } from "./admin-client.ts";

const origins = inject("origins");

/** A name with main 1.0.0 and shadow 2.0.0. */
async function pair(name: string) {
  expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
  expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
}

const controlsOf = async (name: string) =>
  (await versionsOf(name)).map((v) => [v.version, v.mirrorPercent, v.mirrorMethods]);

describe("traffic controls at deploy", () => {
  it("default to every request and every method", async () => {
    const res = await deploy("tc_defaults", "1.0.0", origins.v1);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ mirrorPercent: 100, mirrorMethods: null });
  });

  it("are taken from the deploy body and carried by the record and the listing", async () => {
    const res = await api("POST", "/services", {
      body: {
        name: "tc_deploy",
        version: "1.0.0",
        origin: origins.v1,
        check: false,
        mirrorPercent: 12.5,
        mirrorMethods: ["GET", "HEAD"],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ mirrorPercent: 12.5, mirrorMethods: ["GET", "HEAD"] });
    expect(await controlsOf("tc_deploy")).toEqual([["1.0.0", 12.5, ["GET", "HEAD"]]]);
  });

  it("refuse a bad value at deploy with 422 naming the field, and write nothing", async () => {
    const body = { name: "tc_deploy_bad", version: "1.0.0", origin: origins.v1, check: false };
    const percent = await api("POST", "/services", { body: { ...body, mirrorPercent: 150 } });
    expect(percent.status).toBe(422);
    expect(percent.body.error).toEqual({
      code: "invalid_field",
      message: "mirrorPercent must be a number from 0 to 100",
      field: "mirrorPercent",
    });
    const methods = await api("POST", "/services", { body: { ...body, mirrorMethods: ["get"] } });
    expect(methods.status).toBe(422);
    expect(methods.body.error?.field).toBe("mirrorMethods.0");
    expect(await versionsOf("tc_deploy_bad")).toEqual([]);
  });
});

describe("PATCH /services/:name/:version", () => {
  it("changes only the given control and answers with the record", async () => {
    await pair("tc_patch");
    const percent = await api("PATCH", "/services/tc_patch/2.0.0", { body: { mirrorPercent: 10 } });
    expect(percent.status).toBe(200);
    expect(percent.body).toMatchObject({
      name: "tc_patch",
      version: "2.0.0",
      origin: origins.v2,
      main: false,
      mirrorPercent: 10,
      mirrorMethods: null,
    });
    const methods = await api("PATCH", "/services/tc_patch/2.0.0", { body: { mirrorMethods: ["GET", "PROPFIND"] } });
    expect(methods.status).toBe(200);
    expect(methods.body).toMatchObject({ mirrorPercent: 10, mirrorMethods: ["GET", "PROPFIND"] });
    expect(await controlsOf("tc_patch")).toEqual([
      ["1.0.0", 100, null],
      ["2.0.0", 10, ["GET", "PROPFIND"]],
    ]);
  });

  it("sets both at once, null for every method again, and takes the bounds 0 and 100", async () => {
    await pair("tc_both");
    const both = await api("PATCH", "/services/tc_both/2.0.0", { body: { mirrorPercent: 0, mirrorMethods: ["POST"] } });
    expect(both.body).toMatchObject({ mirrorPercent: 0, mirrorMethods: ["POST"] });
    const back = await api("PATCH", "/services/tc_both/2.0.0", { body: { mirrorPercent: 100, mirrorMethods: null } });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ mirrorPercent: 100, mirrorMethods: null });
  });

  it("keeps two decimals exactly, 0.07 included", async () => {
    await pair("tc_decimals");
    for (const percent of [0.07, 33.33, 99.99, 0.01]) {
      const res = await api("PATCH", "/services/tc_decimals/2.0.0", { body: { mirrorPercent: percent } });
      expect(res.status, String(percent)).toBe(200);
      expect(res.body.mirrorPercent).toBe(percent);
    }
  });

  it("changes a main's controls too, which wait until it is a shadow", async () => {
    await pair("tc_main");
    const res = await api("PATCH", "/services/tc_main/1.0.0", { body: { mirrorPercent: 5 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ main: true, mirrorPercent: 5 });
  });

  it("answers 404 for an unknown name or version, changing nothing", async () => {
    await pair("tc_missing");
    const name = await api("PATCH", "/services/tc_nobody/1.0.0", { body: { mirrorPercent: 5 } });
    expect(name.status).toBe(404);
    expect(name.body.error?.code).toBe("service_not_found");
    const version = await api("PATCH", "/services/tc_missing/9.0.0", { body: { mirrorPercent: 5 } });
    expect(version.status).toBe(404);
    expect(version.body.error).toMatchObject({
      code: "version_not_found",
      message: "tc_missing 9.0.0 is not deployed",
    });
    expect(await versionsOf("tc_nobody")).toEqual([]);
    expect(await controlsOf("tc_missing")).toEqual([
      ["1.0.0", 100, null],
      ["2.0.0", 100, null],
    ]);
  });

  const invalid: [string, unknown, string, string][] = [
    [
      "an empty body",
      {},
      "body",
      "body must set at least one of mirrorPercent, mirrorMethods, stripHeaders, canaryPercent, canaryKey, canaryWrites and forwardAccess",
    ],
    ["a percent over 100", { mirrorPercent: 100.01 }, "mirrorPercent", "mirrorPercent must be a number from 0 to 100"],
    ["a negative percent", { mirrorPercent: -1 }, "mirrorPercent", "mirrorPercent must be a number from 0 to 100"],
    ["a percent as text", { mirrorPercent: "50" }, "mirrorPercent", "mirrorPercent must be a number from 0 to 100"],
    ["a null percent", { mirrorPercent: null }, "mirrorPercent", "mirrorPercent must be a number from 0 to 100"],
    [
      "three decimals",
      { mirrorPercent: 12.345 },
      "mirrorPercent",
      "mirrorPercent must have at most two decimals, such as 12.5 or 0.25",
    ],
    [
      "an empty method list",
      { mirrorMethods: [] },
      "mirrorMethods",
      "mirrorMethods must name at least one method, or be null for every method",
    ],
    [
      "a lower-case method",
      { mirrorMethods: ["GET", "post"] },
      "mirrorMethods.1",
      'mirrorMethods.1 must be an HTTP method such as GET or POST; "post" is not one (did you mean POST?)',
    ],
    [
      "a method with a space",
      { mirrorMethods: ["GET HEAD"] },
      "mirrorMethods.0",
      'mirrorMethods.0 must be an HTTP method such as GET or POST (RFC 9110 or WebDAV); "GET HEAD" is not one',
    ],
    [
      "a typo of a method",
      { mirrorMethods: ["GTE"] },
      "mirrorMethods.0",
      'mirrorMethods.0 must be an HTTP method such as GET or POST; "GTE" is not one (did you mean GET?)',
    ],
    [
      "a well-formed token that is no method",
      { mirrorMethods: ["GET", "FOO"] },
      "mirrorMethods.1",
      'mirrorMethods.1 must be an HTTP method such as GET or POST (RFC 9110 or WebDAV); "FOO" is not one',
    ],
    [
      "a method twice",
      { mirrorMethods: ["GET", "GET"] },
      "mirrorMethods",
      "mirrorMethods must not name a method twice",
    ],
    [
      "methods as one string",
      { mirrorMethods: "GET,HEAD" },
      "mirrorMethods",
      'mirrorMethods must be a list of HTTP methods such as ["GET", "HEAD"], or null for every method',
    ],
    ["a number for a method", { mirrorMethods: [1] }, "mirrorMethods.0", "mirrorMethods.0 must be a string"],
    [
      "33 methods",
      { mirrorMethods: HTTP_METHODS.slice(0, 33) },
      "mirrorMethods",
      "mirrorMethods must name at most 32 methods",
    ],
  ];
  let bad = 0;
  it.each(invalid)("answers 422 naming the field for %s, changing nothing", async (_, body, field, message) => {
    const name = `tc_bad_${++bad}`;
    await pair(name);
    const res = await api("PATCH", `/services/${name}/2.0.0`, { body });
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({ code: "invalid_field", message, field });
    expect((await versionsOf(name)).map((v) => [v.mirrorPercent, v.mirrorMethods])).toEqual([
      [100, null],
      [100, null],
    ]);
  });

  it("answers 422 for an invalid name or version in the path", async () => {
    const version = await api("PATCH", "/services/tc_path/1.0", { body: { mirrorPercent: 5 } });
    expect(version.status).toBe(422);
    expect(version.body.error?.field).toBe("version");
    const name = await api("PATCH", "/services/Bad/1.0.0", { body: { mirrorPercent: 5 } });
    expect(name.status).toBe(422);
    expect(name.body.error?.field).toBe("name");
  });
});

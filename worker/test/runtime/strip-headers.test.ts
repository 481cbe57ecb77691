import { describe, expect, inject, it } from "vitest";
import { api } from "./admin-client.ts";
import { gateway, seenBy, uniqueName, waitForSeen } from "./proxy-helpers.ts";

const origins = inject("origins");

const credentials = { authorization: "Bearer end-user", cookie: "session=abc123", "x-request-id": "" };

async function deployWith(name: string, version: string, origin: string, stripHeaders?: string[]) {
  const body = { name, version, origin, check: false, ...(stripHeaders && { stripHeaders }) };
  const { status, body: record } = await api("POST", "/services", { body });
  expect(status, JSON.stringify(record)).toBe(201);
  return record;
}

describe("stripHeaders", () => {
  it("keeps the named headers out of the shadow's copy, while main gets them all", async () => {
    const name = uniqueName("strip");
    await deployWith(name, "1.0.0", origins.v1);
    const record = await deployWith(name, "2.0.0", origins.v2, ["Authorization", "cookie"]);
    expect(record.stripHeaders).toEqual(["authorization", "cookie"]);
    const id = `${name}-1`;
    const response = await gateway(`/services/${name}/account`, { headers: { ...credentials, "x-request-id": id } });
    expect(response.status).toBe(200);
    await response.text();

    const [main] = await seenBy(origins.v1, id);
    expect(main?.headers.authorization).toBe("Bearer end-user");
    expect(main?.headers.cookie).toBe("session=abc123");
    const [copy] = await waitForSeen(origins.v2, id);
    expect(copy?.headers.authorization).toBeUndefined();
    expect(copy?.headers.cookie).toBeUndefined();
    // Still this gateway's marked copy, with the client's other headers.
    expect(copy?.headers["x-daeploy-shadow"]).toBe("1");
    expect(copy?.headers["x-request-id"]).toBe(id);
  });

  it("is set by PATCH, shown in the record, and a shadow without it gets every header", async () => {
    const name = uniqueName("strippatch");
    await deployWith(name, "1.0.0", origins.v1);
    await deployWith(name, "2.0.0", origins.v2);
    const first = `${name}-1`;
    await (await gateway(`/services/${name}/`, { headers: { ...credentials, "x-request-id": first } })).text();
    expect((await waitForSeen(origins.v2, first))[0]?.headers.cookie).toBe("session=abc123");

    const patched = await api("PATCH", `/services/${name}/2.0.0`, { body: { stripHeaders: ["cookie"] } });
    expect(patched.status).toBe(200);
    expect(patched.body.stripHeaders).toEqual(["cookie"]);
    const listed = await api("GET", `/services?name=${name}`);
    expect(listed.body.services?.map((s) => s.stripHeaders)).toEqual([[], ["cookie"]]);

    const second = `${name}-2`;
    await (await gateway(`/services/${name}/`, { headers: { ...credentials, "x-request-id": second } })).text();
    const [copy] = await waitForSeen(origins.v2, second);
    expect(copy?.headers.cookie).toBeUndefined();
    expect(copy?.headers.authorization).toBe("Bearer end-user");
  });

  it.each([
    [["x-daeploy-shadow"], "gateway's own headers"],
    [["via"], "gateway's own headers"],
    [["cookie", "Cookie"], "twice"],
    [["bad header"], "header names"],
    ["cookie", "list of header names"],
  ])("refuses %j with 422 naming stripHeaders", async (stripHeaders, message) => {
    const name = uniqueName("stripbad");
    const deployed = await api("POST", "/services", {
      body: { name, version: "1.0.0", origin: origins.v1, check: false, stripHeaders },
    });
    expect(deployed.status).toBe(422);
    expect(deployed.body.error).toMatchObject({ code: "invalid_field", field: expect.stringMatching(/^stripHeaders/) });
    expect(deployed.body.error?.message).toContain(message);
    expect((await api("GET", `/services?name=${name}`)).body.services).toEqual([]);
  });
});

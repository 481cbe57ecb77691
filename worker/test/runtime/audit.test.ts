import { describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/registry/records.ts";
import { api, deploy, recordEvidence } from "./admin-client.ts";

const ORIGIN = "http://127.0.0.1:1";
const fresh = (prefix: string) => `${prefix}${crypto.randomUUID().slice(0, 8)}`;

async function trail(query: string): Promise<AuditRecord[]> {
  const { status, body } = await api<{ audit: AuditRecord[] }>("GET", `/audit?${query}`);
  expect(status, JSON.stringify(body)).toBe(200);
  return body.audit;
}

describe("the audit trail", () => {
  it("holds each change once, with its actor, newest first, and keeps a killed name's history", async () => {
    const name = fresh("audited");
    expect((await deploy(name, "1.0.0", ORIGIN)).status).toBe(201);
    expect((await deploy(name, "2.0.0", ORIGIN)).status).toBe(201);
    const patch = { body: { mirrorPercent: 25, stripHeaders: ["Authorization"] } };
    expect((await api("PATCH", `/services/${name}/2.0.0`, patch)).status).toBe(200);
    expect((await api("PUT", `/services/${name}/policy`, { body: { ignore: ["body.time"] } })).status).toBe(200);
    expect((await api("PUT", `/services/${name}/main`, { body: { version: "2.0.0" } })).status).toBe(200);
    // Already main: nothing changes, so nothing is recorded.
    expect((await api("PUT", `/services/${name}/main`, { body: { version: "2.0.0" } })).status).toBe(200);
    expect((await api("DELETE", `/services/${name}/1.0.0`)).status).toBe(200);
    expect((await api("DELETE", `/services/${name}`)).status).toBe(200);

    const rows = await trail(`name=${name}`);
    expect(rows.map((row) => [row.action, row.version])).toEqual([
      ["kill", null],
      ["kill", "1.0.0"],
      ["assign", "2.0.0"],
      ["policy", null],
      ["traffic", "2.0.0"],
      ["deploy", "2.0.0"],
      ["deploy", "1.0.0"],
    ]);
    expect(new Set(rows.map((row) => row.actor))).toEqual(new Set(["admin-token"]));
    expect(rows.every((row) => row.name === name)).toBe(true);
    const ids = rows.map((row) => row.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const times = rows.map((row) => Date.parse(row.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const detail = (action: string) => rows.find((row) => row.action === action)?.detail;
    expect(rows.at(-1)?.detail).toMatchObject({ origin: ORIGIN, main: true });
    expect(detail("traffic")).toEqual({ mirrorPercent: 25, stripHeaders: ["authorization"] });
    expect(detail("policy")).toEqual({ ignore: ["body.time"] });
    expect(detail("assign")).toMatchObject({ from: "1.0.0", verdict: "inconclusive", force: false });
    expect(rows[0]?.detail).toEqual({ versions: ["2.0.0"], main: "2.0.0" });
  });

  it("says a forced promotion was forced, with the verdict it overrode", async () => {
    const name = fresh("forced");
    await deploy(name, "1.0.0", ORIGIN);
    await deploy(name, "2.0.0", ORIGIN);
    await recordEvidence(name, "2.0.0", { compared: 200, different: { "body.price": 100 } });
    const refused = await api("PUT", `/services/${name}/main`, { body: { version: "2.0.0" } });
    expect(refused.status).toBe(409);
    const forced = await api("PUT", `/services/${name}/main`, { body: { version: "2.0.0", force: true } });
    expect(forced.status).toBe(200);

    const [row, ...older] = await trail(`name=${name}`);
    expect(older.map((r) => r.action)).toEqual(["deploy", "deploy"]);
    expect(row).toMatchObject({ action: "assign", version: "2.0.0", actor: "admin-token" });
    expect(row?.detail).toMatchObject({ from: "1.0.0", verdict: "fail", force: true });
    expect(String(row?.detail.warning)).toContain("fails the promotion gate; main changed anyway");
    expect(row?.detail.reasons).toEqual(expect.arrayContaining([expect.stringContaining("body.price")]));
  });

  it("has no row for a change that failed (409, 403, 404, 422)", async () => {
    const name = fresh("failed");
    await deploy(name, "1.0.0", ORIGIN);
    await deploy(name, "2.0.0", ORIGIN);
    const before = await trail(`name=${name}`);
    expect((await deploy(name, "1.0.0", ORIGIN)).status).toBe(409);
    expect((await api("DELETE", `/services/${name}/1.0.0`)).status).toBe(403);
    expect((await api("PATCH", `/services/${name}/9.9.9`, { body: { mirrorPercent: 5 } })).status).toBe(404);
    expect((await api("PATCH", `/services/${name}/2.0.0`, { body: { mirrorPercent: 101 } })).status).toBe(422);
    expect((await api("PUT", `/services/${name}/policy`, { body: { redact: ["nowhere.x"] } })).status).toBe(422);
    expect(await trail(`name=${name}`)).toEqual(before);
  });

  it("pages with limit and before, and lists every name without ?name", async () => {
    const name = fresh("paged");
    for (const version of ["1.0.0", "2.0.0", "3.0.0"]) await deploy(name, version, ORIGIN);
    const [newest, second, third] = await trail(`name=${name}`);
    expect((await trail(`name=${name}&limit=2`)).map((row) => row.version)).toEqual(["3.0.0", "2.0.0"]);
    expect(await trail(`name=${name}&before=${second?.id}`)).toEqual([third]);
    expect((await trail("limit=1"))[0]?.id).toBeGreaterThanOrEqual(newest?.id ?? Number.POSITIVE_INFINITY);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=501", "limit"],
    ["limit=ten", "limit"],
    ["before=0", "before"],
    ["before=-1", "before"],
    ["name=Not%20A%20Name", "name"],
  ])("answers 422 naming the field for ?%s", async (query, field) => {
    const { status, body } = await api("GET", `/audit?${query}`);
    expect(status).toBe(422);
    expect(body.error).toMatchObject({ code: "invalid_field", field });
  });

  it("has no route that changes or deletes a row", async () => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      expect((await api(method, "/audit", { body: {} })).status, method).toBe(404);
    }
  });
});

import {
  createExecutionContext,
  createScheduledController,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { RolloutView } from "../../src/api/schemas.ts";
import { ServiceCoordinator } from "../../src/coordinator/ServiceCoordinator.ts";
import worker from "../../src/index.ts";
import type { AuditRecord, ServiceRecord } from "../../src/registry/records.ts";
import { type ApiCall, api, deploy, recordEvidence, versionsOf } from "./admin-client.ts";
import { uniqueName } from "./proxy-helpers.ts";

const origins = inject("origins");
const MINUTE = 60_000;

/**
 * Makes the real D1 refuse one kind of write of one name: a SQLite trigger that
 * raises on it. The statement fails inside D1 itself, in the middle of the
 * coordinator's batch (the audit row is written after the change it records),
 * so what the batch wrote before it must be rolled back. No code of the
 * gateway knows about it. `heal` drops it.
 */
async function failWrites(table: "audit" | "services" | "rollouts", op: "INSERT" | "UPDATE", name: string) {
  const trigger = `fault_${table}_${op}_${name}`.toLowerCase();
  await env.DB.exec(
    `CREATE TRIGGER ${trigger} BEFORE ${op} ON ${table} WHEN NEW.name = '${name}' BEGIN SELECT RAISE(ABORT, 'injected D1 fault'); END`,
  );
  return { heal: () => env.DB.exec(`DROP TRIGGER ${trigger}`) };
}

/** A storage failure answers a clear 503 JSON the client can retry on: never a 500, never a stack. */
function expectUnavailable(call: ApiCall) {
  expect(call.status, JSON.stringify(call.body)).toBe(503);
  expect(call.headers.get("content-type")).toMatch(/^application\/json/);
  expect(call.body.error?.code).toBe("storage_unavailable");
  expect(call.body.error?.message).toMatch(/try again/i);
  expect(JSON.stringify(call.body)).not.toMatch(/\bat .*\.(ts|js)|Failed query|INSERT|UPDATE/);
}

const auditOf = async (name: string) =>
  (await api<{ audit: AuditRecord[] }>("GET", `/audit?name=${name}`)).body.audit.map((row) => row.action);
const rolloutOf = async (name: string) => (await api<RolloutView>("GET", `/services/${name}/rollout`)).body;
const versionOf = async (name: string, version: string) =>
  (await versionsOf(name)).find((v: ServiceRecord) => v.version === version);

async function twoVersions(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
  expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
  return name;
}

/** The real cron handler at a chosen time; resolves once every pass it started has finished. */
async function cron(atMs: number): Promise<void> {
  const ctx = createExecutionContext();
  worker.scheduled(createScheduledController({ scheduledTime: atMs, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

let logged: string[] = [];
beforeEach(() => {
  logged = [];
  vi.spyOn(console, "log").mockImplementation(() => undefined);
  vi.spyOn(console, "error").mockImplementation((line: string) => void logged.push(line));
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("D1 failing in the middle of a change", () => {
  it("deploy: 503, no version and no audit row; the same deploy succeeds once D1 is back", async () => {
    const name = uniqueName("fdeploy");
    expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
    const fault = await failWrites("audit", "INSERT", name);
    expectUnavailable(await deploy(name, "2.0.0", origins.v2));
    expect((await versionsOf(name)).map((v) => v.version)).toEqual(["1.0.0"]);
    await fault.heal();
    expect(await auditOf(name)).toEqual(["deploy"]);
    // Nothing was half-written, so this is a first deploy of 2.0.0, not a 409.
    expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
  });

  it("assign: 503, main unchanged and the running rollout untouched", async () => {
    const name = await twoVersions("fassign");
    expect((await deploy(name, "3.0.0", origins.v1)).status).toBe(201);
    expect((await api("POST", `/services/${name}/2.0.0/rollout`, { body: { steps: [5, 25] } })).status).toBe(201);
    const fault = await failWrites("audit", "INSERT", name);
    expectUnavailable(await api("PUT", `/services/${name}/main`, { body: { version: "3.0.0" } }));
    await fault.heal();
    const versions = await versionsOf(name);
    expect(versions.filter((v) => v.main).map((v) => v.version)).toEqual(["1.0.0"]);
    expect(versions.find((v) => v.version === "2.0.0")?.canaryPercent).toBe(5);
    expect(await rolloutOf(name)).toMatchObject({ state: "running", step: 0 });
    expect(await auditOf(name)).not.toContain("assign");
    expect((await api("PUT", `/services/${name}/main`, { body: { version: "3.0.0" } })).status).toBe(200);
  });

  it("PATCH: 503, the traffic controls as they were", async () => {
    const name = await twoVersions("fpatch");
    const fault = await failWrites("audit", "INSERT", name);
    const body = { mirrorPercent: 10, mirrorMethods: ["GET"], canaryPercent: 20 };
    expectUnavailable(await api("PATCH", `/services/${name}/2.0.0`, { body }));
    await fault.heal();
    expect(await versionOf(name, "2.0.0")).toMatchObject({ mirrorPercent: 100, mirrorMethods: null, canaryPercent: 0 });
    expect(await auditOf(name)).not.toContain("traffic");
  });

  it("kill of a version being rolled out: 503, the version and its rollout both as they were", async () => {
    const name = await twoVersions("fkill");
    expect((await api("POST", `/services/${name}/2.0.0/rollout`, { body: { steps: [5, 25] } })).status).toBe(201);
    // The rollout's end is the second write of this kill: it fails, and the version's removal must not stay alone.
    const fault = await failWrites("rollouts", "INSERT", name);
    expectUnavailable(await api("DELETE", `/services/${name}/2.0.0`));
    await fault.heal();
    expect(await versionOf(name, "2.0.0")).toMatchObject({ canaryPercent: 5 });
    expect(await rolloutOf(name)).toMatchObject({ state: "running", step: 0 });
    expect(await auditOf(name)).not.toContain("kill");
    expect((await api("DELETE", `/services/${name}/2.0.0`)).status).toBe(200);
    expect(await rolloutOf(name)).toMatchObject({ state: "aborted", reasons: ["2.0.0 was killed"] });
  });

  it("assign whose read after the change fails: 503, and main moved whole, with its audit row", async () => {
    const name = await twoVersions("freadback");
    // D1 answers the change's batch, then fails every statement after it: the coordinator's read-back.
    const outcome = await runInDurableObject(env.SERVICE_COORDINATOR.getByName(name), (_i, state) => {
      let written = false;
      const db = new Proxy(env.DB, {
        get(target, key) {
          if (key === "batch") {
            return async (statements: D1PreparedStatement[]) => {
              if (written) throw new Error("D1_ERROR: Network connection lost.");
              written = true;
              return target.batch(statements);
            };
          }
          if (key === "prepare" && written) return () => lostD1().prepare("");
          return Reflect.get(target, key).bind(target);
        },
      });
      return new ServiceCoordinator(state, { ...env, DB: db }).assign(name, "2.0.0", true, "admin-token");
    });
    expect(outcome).toMatchObject({ ok: false, status: 503, body: { error: { code: "storage_unavailable" } } });
    const versions = await versionsOf(name);
    expect(versions.filter((v) => v.main).map((v) => v.version)).toEqual(["2.0.0"]);
    expect(await auditOf(name)).toContain("assign");
  });

  it("a rollout step: the cron's write fails whole (step and canary as they were), and the next look takes it once", async () => {
    const name = await twoVersions("fstep");
    const started = await api<RolloutView>("POST", `/services/${name}/2.0.0/rollout`, {
      body: { steps: [5, 25, 50], stepMinutes: 1 },
    });
    expect(started.status).toBe(201);
    // The step's own evidence (its first whole minute), half of it answered by the canary.
    const during = { at: Date.now() + MINUTE, canary: 200 };
    await recordEvidence(name, "2.0.0", { ...during, compared: 2000, latencyMs: { main: 20, shadow: 21 } });
    const fault = await failWrites("audit", "INSERT", name);
    await cron(Date.now() + MINUTE + 1_000);
    expect(await rolloutOf(name)).toMatchObject({ state: "running", step: 0, results: [] });
    expect((await versionOf(name, "2.0.0"))?.canaryPercent).toBe(5);
    expect(logged.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({ event: "rollout_tick_failed", name }),
    );
    await fault.heal();
    await cron(Date.now() + MINUTE + 2_000);
    const advanced = await rolloutOf(name);
    expect(advanced).toMatchObject({ state: "running", step: 1, percent: 25 });
    expect(advanced.results.map((r) => r.percent)).toEqual([5]);
    expect((await versionOf(name, "2.0.0"))?.canaryPercent).toBe(25);
    expect((await auditOf(name)).filter((action) => action === "rollout")).toHaveLength(2);
  });
});

/** A D1 binding that has lost its database: every statement fails as D1's own errors read. */
const lostD1 = (): D1Database => {
  const fail = () => Promise.reject(new Error("D1_ERROR: Network connection lost."));
  const statement = { bind: () => statement, all: fail, raw: fail, run: fail, first: fail };
  return { prepare: () => statement, batch: fail, exec: fail, dump: fail } as unknown as D1Database;
};

describe("D1 unreachable for reads", () => {
  it("the admin API's reads and the proxy's route lookup answer 503 JSON, not a 500", async () => {
    const name = await twoVersions("fread");
    for (const path of ["/api/v1/services", `/api/v1/services/${name}`, `/services/${name}/item`]) {
      const ctx = createExecutionContext();
      const request = new Request(`https://gateway.test${path}`, { headers: { authorization: "Bearer test-token" } });
      const response = await worker.fetch(request, { ...env, DB: lostD1() }, ctx);
      await waitOnExecutionContext(ctx);
      const body = await response.json<ApiCall["body"]>();
      expectUnavailable({ status: response.status, headers: response.headers, body });
    }
    expect(logged.map((line) => JSON.parse(line).event)).toContain("storage_failed");
  });
});

describe("D1 unreachable for the cron", () => {
  it("each pass (health, verdicts, rollouts) logs that it failed, and none throws out of the cron", async () => {
    const ctx = createExecutionContext();
    const controller = createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" });
    worker.scheduled(controller, { ...env, DB: lostD1() }, ctx);
    await waitOnExecutionContext(ctx);
    const lines = logged.map((line) => JSON.parse(line));
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ event: "cron_pass_failed", pass: "health" }),
        expect.objectContaining({ event: "cron_pass_failed", pass: "verdicts" }),
        expect.objectContaining({ event: "rollout_pass_failed" }),
      ]),
    );
    expect(lines).toHaveLength(3);
  });
});

import {
  createExecutionContext,
  createScheduledController,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { RolloutView } from "../../src/api/schemas.ts";
import { readConfig } from "../../src/config.ts";
import { ServiceCoordinator } from "../../src/coordinator/ServiceCoordinator.ts";
import type { Env } from "../../src/env.ts";
import { evidenceFor } from "../../src/evidence/collection.ts";
import type { EvidenceLedger } from "../../src/evidence/ledger/index.ts";
import type { EvidenceReport } from "../../src/evidence/verdict.ts";
import worker from "../../src/index.ts";
import type { AuditRecord } from "../../src/registry/records.ts";
import { api, deploy, recordEvidence, versionsOf } from "./admin-client.ts";
import { gateway, uniqueName } from "./proxy-helpers.ts";

const origins = inject("origins");
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The real cron handler at a chosen time; resolves once every pass it started has finished. */
async function cron(atMs: number): Promise<void> {
  const ctx = createExecutionContext();
  worker.scheduled(createScheduledController({ scheduledTime: atMs, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const rolloutOf = async (name: string) => (await api<RolloutView>("GET", `/services/${name}/rollout`)).body;
const canaryOf = async (name: string) => (await versionsOf(name)).find((v) => v.version === "2.0.0")?.canaryPercent;
const rolloutTrail = async (name: string) =>
  (await api<{ audit: AuditRecord[] }>("GET", `/audit?name=${name}`)).body.audit
    .filter((row) => row.action === "rollout")
    .map((row) => row.detail.change)
    .reverse();

async function twoVersions(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
  expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
  return name;
}

/**
 * Evidence a clean step passes on: 400 identical answers at the same latency, half of them answered by the
 * canary, in the minute of `at`.
 */
const passing = (name: string, at = Date.now()) =>
  recordEvidence(name, "2.0.0", { at, compared: 2000, canary: 200, latencyMs: { main: 20, shadow: 21 } });

const mirroredOf = async (name: string) => {
  const { body } = await api<EvidenceReport>("GET", `/services/${name}/report`);
  return body.shadows.find((s) => s.version === "2.0.0")?.requests.mirrored ?? 0;
};

let logged: string[] = [];
beforeEach(() => {
  logged = [];
  vi.spyOn(console, "log").mockImplementation((line: string) => void logged.push(String(line)));
  vi.spyOn(console, "error").mockImplementation((line: string) => void logged.push(String(line)));
});

/** Restarts a Durable Object: its in-memory state is gone, its storage stays. A stub that saw it is broken. */
const restart = (stub: DurableObjectStub, reason: string) =>
  expect(runInDurableObject(stub, (_instance, state) => state.abort(reason))).rejects.toThrow(reason);
afterEach(() => {
  vi.restoreAllMocks();
});

describe("the ledger restarted in the middle of a batch", () => {
  /**
   * The name's ledger as the proxy reaches it, except that its next `record`
   * runs inside the object and `crash` restarts the object around it: the
   * real ledger code, the real batcher, a real `ctx.abort()`.
   */
  const crashingLedger = (crash: (record: Promise<void>, state: DurableObjectState) => Promise<void>) => {
    const real = env.EVIDENCE_LEDGER;
    return {
      ...real,
      getByName(objectName: string) {
        const stub = real.getByName(objectName);
        return new Proxy(stub, {
          get(target, key) {
            if (key !== "record") return Reflect.get(target, key);
            return (batch: Parameters<EvidenceLedger["record"]>[0]) =>
              runInDurableObject(stub, (instance: EvidenceLedger, state) => crash(instance.record(batch), state));
          },
        });
      },
    } as Env["EVIDENCE_LEDGER"];
  };

  /** The isolate's evidence collection the proxy uses with this ledger binding. */
  const evidenceWith = (ledger: Env["EVIDENCE_LEDGER"]) => evidenceFor({ EVIDENCE_LEDGER: ledger }, readConfig(env));

  /**
   * Ten GETs through the gateway with this ledger binding; resolves once their batch was sent, or
   * failed to be, with how many of its batches failed.
   */
  async function tenCopies(name: string, ledger: Env["EVIDENCE_LEDGER"], from: number): Promise<number> {
    const { batcher } = evidenceWith(ledger);
    const failedBefore = batcher.stats.failedFlushes;
    const contexts = await Promise.all(
      Array.from({ length: 10 }, async (_, k) => {
        const ctx = createExecutionContext();
        const request = new Request(`https://gateway.test/services/${name}/item`, {
          headers: { "x-request-id": `${name}-${from + k}` },
        });
        const response = await worker.fetch(request, { ...env, EVIDENCE_LEDGER: ledger }, ctx);
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        return ctx;
      }),
    );
    for (const ctx of contexts) await waitOnExecutionContext(ctx);
    await batcher.flush(name);
    return batcher.stats.failedFlushes - failedBefore;
  }

  it("counts each copy once or counts it as lost (logged), never twice, and takes the next batch", {
    timeout: 30_000,
  }, async () => {
    const name = await twoVersions("fledger");
    await tenCopies(name, env.EVIDENCE_LEDGER, 0);
    expect(await mirroredOf(name)).toBe(10);

    // The batch is applied and stored, then the ledger restarts before it can answer: the gateway sees a
    // failed write. Sending the batch again would count these ten twice.
    const failedAfterCommit = await tenCopies(
      name,
      crashingLedger(async (record, state) => {
        await record;
        await state.storage.sync();
        state.abort("restarted after the batch");
      }),
      10,
    );
    // One batch, or two on a machine slow enough that a copy's answer missed the first one's second.
    expect(failedAfterCommit).toBeGreaterThanOrEqual(1);
    expect(await mirroredOf(name)).toBe(20);

    // Restarted while the batch is being written: the batch is stored whole or lost whole (and the loss logged).
    const failedDuring = await tenCopies(
      name,
      crashingLedger(async (record, state) => {
        state.abort("restarted during the batch");
        await record;
      }),
      20,
    );
    expect(failedDuring).toBeGreaterThanOrEqual(1);
    const failed = failedAfterCommit + failedDuring;
    const kept = await mirroredOf(name);
    expect(kept).toBeGreaterThanOrEqual(20);
    expect(kept).toBeLessThanOrEqual(30);
    expect(logged.filter((line) => line.includes('"evidence_flush_failed"'))).toHaveLength(failed);

    // The restarted ledger takes the next batch as usual.
    const before = await mirroredOf(name);
    for (let k = 0; k < 10; k++) {
      const response = await gateway(`/services/${name}/item`, { headers: { "x-request-id": `${name}-${30 + k}` } });
      await response.arrayBuffer();
    }
    await evidenceWith(env.EVIDENCE_LEDGER).batcher.flush(name);
    await vi.waitFor(async () => expect(await mirroredOf(name)).toBe(before + 10), { timeout: 5_000 });
  });
});

describe("the coordinator restarted mid-rollout", () => {
  it("neither skips nor repeats a step, whether it restarts between looks or after writing a step", async () => {
    const name = await twoVersions("fcoord");
    const started = await api("POST", `/services/${name}/2.0.0/rollout`, {
      body: { steps: [5, 25, 50], stepMinutes: 1 },
    });
    expect(started.status).toBe(201);
    const coordinator = () => env.SERVICE_COORDINATOR.getByName(name);
    // The current step began two minutes ago (its one minute is up), with passing evidence since.
    const stepLasted = async () => {
      await env.DB.prepare("UPDATE rollouts SET step_since = step_since - ? WHERE name = ?")
        .bind(2 * MINUTE, name)
        .run();
      await passing(name);
    };

    // Restarted between two looks: it keeps nothing of a rollout in memory, and the next look advances once.
    await stepLasted();
    await restart(coordinator(), "restarted between looks");
    await cron(Date.now());
    expect(await rolloutOf(name)).toMatchObject({ state: "running", step: 1, percent: 25 });

    // Restarted after its D1 batch moved the step, before it could answer the cron.
    await stepLasted();
    const interrupted = Date.now();
    const tick = runInDurableObject(coordinator(), async (_instance: ServiceCoordinator, state) => {
      const db = env.DB;
      const restartingDb = new Proxy(db, {
        get(target, key) {
          if (key !== "batch") return Reflect.get(target, key).bind(target);
          return async (statements: D1PreparedStatement[]) => {
            const results = await target.batch(statements);
            state.abort("restarted after writing the step");
            return results;
          };
        },
      });
      // The same object's state and storage, its D1 seen through the restart above.
      return new ServiceCoordinator(state, { ...env, DB: restartingDb }).tickRollout(name, interrupted);
    });
    await expect(tick).rejects.toThrow("restarted after writing the step");
    const moved = await rolloutOf(name);
    expect(moved).toMatchObject({ state: "running", step: 2, percent: 50 });
    expect(moved.results.map((r) => r.percent)).toEqual([5, 25]);
    expect(await canaryOf(name)).toBe(50);

    // The cron's look is tried again at the same time: the step has just begun, so it waits.
    await cron(interrupted);
    await cron(Date.now());
    expect(await rolloutOf(name)).toMatchObject({ state: "running", step: 2, results: moved.results });
    expect(await rolloutTrail(name)).toEqual(["started", "advanced", "advanced"]);
  });
});

describe("the cron missed for an hour", () => {
  it("resumes with one step per look, judged on the evidence of the step it was on", async () => {
    const name = await twoVersions("fcron");
    const started = await api("POST", `/services/${name}/2.0.0/rollout`, {
      body: { steps: [5, 25, 50], stepMinutes: 10, promote: false },
    });
    expect(started.status).toBe(201);
    // The step began an hour ago, and no cron has looked since; passing evidence came in all along.
    const hourAgo = Date.now() - HOUR;
    await env.DB.prepare("UPDATE rollouts SET step_since = ?, started_at = ? WHERE name = ?")
      .bind(hourAgo, hourAgo, name)
      .run();
    for (let at = hourAgo; at < Date.now(); at += 10 * MINUTE) await passing(name, at);

    const now = Date.now();
    await cron(now);
    const resumed = await rolloutOf(name);
    expect(resumed).toMatchObject({ state: "running", step: 1, percent: 25 });
    expect(resumed.results.map((r) => [r.percent, r.verdict])).toEqual([[5, "pass"]]);
    expect(await canaryOf(name)).toBe(25);

    // An hour of steps was due, but each look takes one: the new step has its own ten minutes to last.
    for (const later of [now + 1_000, now + MINUTE, now + 5 * MINUTE]) {
      await cron(later);
      expect(await rolloutOf(name)).toMatchObject({ step: 1 });
    }
    // The new step's own evidence: a step is judged on the whole minutes after it began.
    await passing(name, now + MINUTE);
    await cron(now + 10 * MINUTE + 1_000);
    expect(await rolloutOf(name)).toMatchObject({ state: "running", step: 2, percent: 50 });
    expect(await rolloutTrail(name)).toEqual(["started", "advanced", "advanced"]);
  });
});

describe("the ledger's alarm retried", () => {
  it("rolls up and prunes once: running it again, or again after a restart in the middle, changes nothing", async () => {
    const name = uniqueName("falarm");
    const ledger = () => env.EVIDENCE_LEDGER.getByName(name);
    // Minutes old enough to be rolled up into their hours, and minutes past the 7-day retention.
    // Placed from the start of an hour, so two of them share an hour whatever the clock reads.
    const now = Date.now();
    const fiveHoursBack = Math.floor(now / HOUR) * HOUR - 5 * HOUR;
    for (const at of [
      fiveHoursBack + 10 * MINUTE,
      fiveHoursBack + 17 * MINUTE,
      fiveHoursBack - HOUR + 3 * MINUTE,
      now - 30 * HOUR,
    ]) {
      await recordEvidence(name, "2.0.0", { at, compared: 40, different: { "body.price": 3 } });
    }
    await recordEvidence(name, "2.0.0", { at: now - 8 * 24 * HOUR, compared: 1000 });
    const week = {
      name,
      from: now - 7 * 24 * HOUR,
      to: now + 1,
      main: "1.0.0",
      shadows: ["2.0.0"],
      policy: (await api("GET", `/services/${name}/policy`)).body as never,
      shards: 1,
    };
    const read = async () => {
      const report = await ledger().report(week);
      const shadow = report.shadows[0];
      return { requests: shadow?.requests, fields: shadow?.fields.map((f) => [f.path, f.count]) };
    };
    const rows = () =>
      runInDurableObject(ledger(), (_instance: EvidenceLedger, state) => ({
        counters: state.storage.sql.exec("SELECT * FROM counters").toArray().length,
        signatures: state.storage.sql.exec("SELECT * FROM signatures").toArray().length,
      }));

    await runInDurableObject(ledger(), (_i: EvidenceLedger, state) => state.storage.setAlarm(Date.now()));
    expect(await runDurableObjectAlarm(ledger())).toBe(true);
    const once = await read();
    expect(once.requests).toMatchObject({ mirrored: 160, compared: 160 });
    expect(once.fields).toEqual([["body.price", 12]]);
    const rowsOnce = await rows();
    // Two hours of minutes folded to one row each, the 8-day-old minute pruned.
    expect(rowsOnce.counters).toBe(3);

    // A retry runs the same handler again.
    await runInDurableObject(ledger(), (instance: EvidenceLedger) => instance.alarm());
    expect(await read()).toEqual(once);
    expect(await rows()).toEqual(rowsOnce);

    // A retry after the object restarted in the middle of a run.
    await recordEvidence(name, "2.0.0", { at: fiveHoursBack + 20 * MINUTE, compared: 40 });
    await expect(
      runInDurableObject(ledger(), async (instance: EvidenceLedger, state) => {
        const run = instance.alarm();
        state.abort("restarted during the alarm");
        await run;
      }),
    ).rejects.toThrow("restarted during the alarm");
    await runInDurableObject(ledger(), (instance: EvidenceLedger) => instance.alarm());
    await runInDurableObject(ledger(), (instance: EvidenceLedger) => instance.alarm());
    expect((await read()).requests).toMatchObject({ mirrored: 200, compared: 200 });
    expect(await rows()).toEqual(rowsOnce);
  });
});

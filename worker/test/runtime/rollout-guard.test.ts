import {
  createExecutionContext,
  createScheduledController,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { RolloutView } from "../../src/api/schemas.ts";
import type { Env } from "../../src/env.ts";
import worker from "../../src/index.ts";
import type { AuditRecord } from "../../src/registry/records.ts";
import { api } from "./admin-client.ts";
import { gateway } from "./proxy-helpers.ts";
import {
  canaryOf,
  cron,
  evidenceLanded,
  labName,
  MINUTE,
  receivedEvents,
  rolloutOf,
  roomInThisMinute,
  startRollout,
  stepBeganLastMinute,
  traffic,
} from "./rollout-helpers.ts";

// What keeps users off a version that is bad: the gate a rollout starts through, a step judged on its
// own evidence only, an abort within seconds of a fail, and a cron that no name's webhook can hold up.

const origins = inject("origins");

const auditOf = async (name: string) =>
  (await api<{ audit: AuditRecord[] }>("GET", `/audit?name=${name}`)).body.audit.filter((r) => r.action === "rollout");

/** Requests whose ids are `<name>-<n>` with n never a multiple of 10: the lab shadow answers /field right for those. */
const cleanIds = (from: number, count: number) =>
  Array.from({ length: count }, (_, k) => from + k + Math.floor((from + k) / 9) + 1);

beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a rollout starts through the gate", () => {
  it("refuses a failing shadow with 409 and its reasons, sending no user to it; force starts it, audited", {
    timeout: 30_000,
  }, async () => {
    // 3.0.0 answers 503 to everything; as a shadow only (no canary yet), so only the gate can see it.
    const name = await labName("rollgate", origins.v3);
    await roomInThisMinute(20);
    await traffic(name, 0, 110);
    await evidenceLanded(name, "2.0.0", 110);

    const refused = await startRollout(name, "2.0.0", { steps: [5, 25] });
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe("gate_failed");
    expect(refused.body.error?.message).toMatch(/fails the gate, so no user is sent to it/);
    expect(refused.body.error?.reasons?.join(" ")).toMatch(/error rate/);
    expect(await canaryOf(name, "2.0.0")).toBe(0);
    expect((await api("GET", `/services/${name}/rollout`)).status).toBe(404);
    // No user is answered by it: every client still gets main's 200 (3.0.0 would answer 503).
    const answeredBy = await traffic(name, 110, 100);
    expect(new Set(answeredBy)).toEqual(new Set(["main"]));
    expect(await auditOf(name)).toEqual([]);

    const forced = await startRollout(name, "2.0.0", { steps: [5, 25], force: true });
    expect(forced.status).toBe(201);
    expect(forced.body).toMatchObject({ state: "running", percent: 5 });
    expect(forced.body.warning).toMatch(/fails the gate; the rollout started anyway \(forced\)/);
    const [row] = await auditOf(name);
    expect(row).toMatchObject({ actor: "admin-token", detail: { change: "started", force: true, gate: "fail" } });
    expect(String(row?.detail.gateReasons)).toMatch(/error rate/);
    // A forced start is still watched: the step shows its fail before the cron acts, and the cron aborts it.
    const view = await rolloutOf(name);
    expect(view.current).toMatchObject({ percent: 5, verdict: "fail" });
    const { body: listed } = await api<{ rollouts: RolloutView[] }>("GET", "/rollouts");
    expect(listed.rollouts.find((r) => r.name === name)?.current?.verdict).toBe("fail");
    await cron(Date.now());
    const aborted = await rolloutOf(name);
    expect(aborted).toMatchObject({ state: "aborted", results: [{ percent: 5, verdict: "fail" }] });
    expect(aborted.reasons[0]).toBe("the verdict at 5 % is fail");
    expect(await canaryOf(name, "2.0.0")).toBe(0);
  });

  it("fails closed when the ledger cannot be read: 409 evidence_unavailable, which force overrides", async () => {
    const name = await labName("rollblind");
    const down = {
      getByName: () => ({ report: () => Promise.reject(new Error("connection lost")) }),
    } as unknown as Env["EVIDENCE_LEDGER"];
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    // The coordinator reads its bindings from its own env; this one instance gets a ledger that is down.
    await runInDurableObject(env.SERVICE_COORDINATOR.getByName(name), (instance) => {
      Reflect.set(instance, "env", { ...env, EVIDENCE_LEDGER: down });
    });
    const refused = await startRollout(name, "2.0.0", { steps: [5] });
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe("evidence_unavailable");
    expect(await canaryOf(name, "2.0.0")).toBe(0);
    const forced = await startRollout(name, "2.0.0", { steps: [5], force: true });
    expect(forced.status).toBe(201);
    expect(forced.body.warning).toMatch(/could not be read \(connection lost\); the rollout started unchecked/);
    expect((await auditOf(name))[0]?.detail).toMatchObject({ force: true, gate: "unavailable" });
  });

  it("starts a shadow with no verdict yet: the steps judge what copies could not show", async () => {
    const name = await labName("rollnew");
    const started = await startRollout(name, "2.0.0", { steps: [5] });
    expect(started.status).toBe(201);
    expect(started.body.warning).toBeUndefined();
    expect((await auditOf(name))[0]?.detail).toMatchObject({ force: false, gate: "inconclusive" });
  });
});

describe("a step is judged on its own evidence", () => {
  it("cannot pass on evidence from before it began, even the canary's own", { timeout: 60_000 }, async () => {
    const name = await labName("rollown");
    // Clean evidence, half of it answered by the shadow as a canary set by hand, then the rollout, in the
    // same minute: the shadow passes the gate, on more canary answers than a step needs...
    await roomInThisMinute(25);
    expect((await api("PATCH", `/services/${name}/2.0.0`, { body: { canaryPercent: 50 } })).status).toBe(200);
    await traffic(name, 0, 400);
    await evidenceLanded(name, "2.0.0", 400);
    const { body: gate } = await api<{ verdict: string; requests: { canary: number } }>(
      "GET",
      `/services/${name}/2.0.0/gate`,
    );
    expect(gate.verdict).toBe("pass");
    expect(gate.requests.canary).toBeGreaterThanOrEqual(100);
    expect((await startRollout(name, "2.0.0", { steps: [5, 25], stepMinutes: 1 })).status).toBe(201);
    // ...but none of that is the step's: once it has lasted its minute, the cron finds nothing to pass it on.
    await cron(Date.now() + MINUTE + 1_000);
    const waiting = await rolloutOf(name);
    expect(waiting).toMatchObject({ state: "running", step: 0, results: [] });
    expect(waiting.current).toMatchObject({ verdict: "inconclusive" });
  });

  it("cannot pass on copies alone: it needs minRequests answers of the canary's own", { timeout: 30_000 }, async () => {
    const name = await labName("rollcopies");
    expect((await startRollout(name, "2.0.0", { steps: [5, 25], stepMinutes: 1 })).status).toBe(201);
    // Evidence of the step's own, mostly copies: at 5 %, 400 requests (what a pass at alpha 0.2 needs) are
    // about 20 the canary answered.
    await stepBeganLastMinute(name);
    await traffic(name, 0, 400);
    await evidenceLanded(name, "2.0.0", 400);
    const copiesOnly = (await rolloutOf(name)).current;
    expect(copiesOnly?.verdict).toBe("inconclusive");
    // Among its reasons (a loaded machine's wide p99 band may come first), the canary's own count.
    expect(copiesOnly?.reasons).toContainEqual(
      expect.stringMatching(/requests answered by the canary since \d\d:\d\d UTC, fewer than the 100/),
    );
    await cron(Date.now() + MINUTE + 1_000);
    expect(await rolloutOf(name)).toMatchObject({ state: "running", step: 0, results: [] });
  });
});

describe("a failing step is aborted within seconds", () => {
  it("aborts a canary that starts answering wrong prices mid-step within 15 s, with no cron", {
    timeout: 60_000,
  }, async () => {
    const name = await labName("rollmid");
    expect((await startRollout(name, "2.0.0", { steps: [50], stepMinutes: 10 })).status).toBe(201);
    let next = 0;
    const round = () => {
      const ids = cleanIds(next, 10);
      next += 10;
      return Promise.all(ids.map((n) => priceThrough(name, n)));
    };
    // A clean start: the step runs with its canary answering half the users right.
    const cleanUntil = Date.now() + 3_000;
    while (Date.now() < cleanUntil) await round();
    expect((await rolloutOf(name)).state).toBe("running");

    // From now on the canary answers every price wrong.
    await fetch(`${origins.labShadow}/__break?prefix=${name}-`, { method: "POST" });
    const brokeAt = Date.now();
    let abortedAt: number | undefined;
    while (abortedAt === undefined && Date.now() - brokeAt < 30_000) {
      await round();
      if ((await rolloutOf(name)).state === "aborted") abortedAt = Date.now();
    }
    expect(abortedAt, "the rollout was never aborted").toBeDefined();
    const seconds = ((abortedAt ?? 0) - brokeAt) / 1000;
    console.info(`rollout-guard: the wrong-price canary was aborted ${seconds.toFixed(1)} s after it broke`);
    expect(seconds).toBeLessThan(15);

    const aborted = await rolloutOf(name);
    expect(aborted.reasons[0]).toBe("the verdict at 50 % is fail");
    expect(aborted.reasons.join(" ")).toMatch(/differ/);
    expect(aborted.results.map((r) => [r.percent, r.verdict])).toEqual([[50, "fail"]]);
    expect(await canaryOf(name, "2.0.0")).toBe(0);
    // The gateway aborted it by itself, and from then on main answers everyone.
    expect((await auditOf(name))[0]).toMatchObject({ actor: "rollout", detail: { change: "aborted" } });
    expect(new Set(await round())).toEqual(new Set(["main"]));
  });
});

describe("no name waits for another", () => {
  it("a name whose webhook hangs does not hold up the cron's rollout work or notices for another name", {
    timeout: 60_000,
  }, async () => {
    // Two names whose forced rollouts fail as shadows: the cron aborts both and tells each its webhook.
    const hanging = await labName("rollhang", origins.v3);
    const quick = await labName("rollquick", origins.v3);
    const notify = (kind: string, name: string) => ({
      notify: { url: `${origins.receiver}/${kind}/${name}`, events: ["rollout"] },
    });
    expect((await api("PUT", `/services/${hanging}/policy`, { body: notify("hang", hanging) })).status).toBe(200);
    expect((await api("PUT", `/services/${quick}/policy`, { body: notify("ok", quick) })).status).toBe(200);
    await roomInThisMinute(20);
    for (const name of [hanging, quick]) {
      await traffic(name, 0, 110);
      await evidenceLanded(name, "2.0.0", 110);
    }
    // The hanging name's rollout is started first, so a cron that went name by name would reach it first.
    for (const name of [hanging, quick]) {
      expect((await startRollout(name, "2.0.0", { steps: [5], force: true })).status).toBe(201);
    }
    await receivedEvents(quick, 1);

    const ctx = createExecutionContext();
    const ranAt = Date.now();
    worker.scheduled(createScheduledController({ scheduledTime: ranAt, cron: "* * * * *" }), env, ctx);
    const events = await receivedEvents(quick, 2, 10_000);
    const seconds = (Date.now() - ranAt) / 1000;
    console.info(`rollout-guard: the other name's abort was notified ${seconds.toFixed(1)} s after the cron began`);
    expect(events.map((event) => event.text.split(",")[0])).toEqual([
      `rollout of ${quick} 2.0.0 started at 5 % (steps 5 %)`,
      `rollout of ${quick} 2.0.0 aborted`,
    ]);
    // The hanging receiver's deliveries take about 24 s (4 tries of 5 s, and waits); the other name is told at once.
    expect(seconds).toBeLessThan(5);
    expect(await rolloutOf(hanging)).toMatchObject({ state: "aborted" });
    // The hanging name's deliveries would take that 24 s to give up: once answered, the cron's work is done.
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    await fetch(`${origins.receiver}/__release?key=${hanging}`, { method: "POST" });
    await waitOnExecutionContext(ctx);
  });
});

/** One GET of /field through the gateway with the id `<name>-<n>`; answers which lab side answered. */
async function priceThrough(name: string, n: number): Promise<string> {
  const response = await gateway(`/services/${name}/field`, { headers: { "x-request-id": `${name}-${n}` } });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
  return response.headers.get("x-lab") ?? "";
}

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { RolloutView } from "../../src/api/schemas.ts";
import type { Env } from "../../src/env.ts";
import worker from "../../src/index.ts";
import type { AuditRecord } from "../../src/registry/records.ts";
import { api, deploy, TOKEN } from "./admin-client.ts";
import {
  canaryOf,
  cron,
  evidenceLanded,
  labName,
  MINUTE,
  mainOf,
  receivedEvents,
  rolloutOf,
  startRollout as start,
  stepBeganLastMinute,
  traffic,
  trafficUntilPass,
} from "./rollout-helpers.ts";

const origins = inject("origins");

beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("rollout", () => {
  it("advances a step on pass once the step has lasted, and promotes at its last step through the cron", {
    timeout: 90_000,
  }, async () => {
    const name = await labName("rollpass");
    const started = await start(name, "2.0.0", { steps: [25, 50], stepMinutes: 1, promote: true });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ state: "running", step: 0, percent: 25, results: [] });
    expect(await canaryOf(name, "2.0.0")).toBe(25);
    // No evidence of its own yet: the step is judged from its first whole minute on, and says so.
    const fresh = (await rolloutOf(name)).current;
    expect(fresh).toMatchObject({ percent: 25, verdict: "inconclusive" });
    const firstWholeMinute = Math.ceil(Date.parse(started.body.since) / MINUTE) * MINUTE;
    expect(Date.parse(fresh?.since ?? "")).toBe(firstWholeMinute);
    expect(fresh?.reasons.join(" ")).toMatch(/first whole minute/);

    await stepBeganLastMinute(name);
    // The clean step is heading for pass before the cron has looked at it.
    const sent = await trafficUntilPass(name, "2.0.0", 0);
    console.info(`rollout: the clean step passed after ${sent} requests`);
    expect((await rolloutOf(name)).current).toMatchObject({ percent: 25, verdict: "pass" });
    // The step has not lasted a minute yet: a pass does not move it.
    await cron(Date.parse((await rolloutOf(name)).since) + MINUTE - 1_000);
    expect(await rolloutOf(name)).toMatchObject({ state: "running", step: 0 });

    await cron(Date.now() + MINUTE + 1_000);
    const advanced = await rolloutOf(name);
    expect(advanced).toMatchObject({ state: "running", step: 1, percent: 50 });
    expect(advanced.results.map((r) => [r.percent, r.verdict])).toEqual([[25, "pass"]]);
    expect(await canaryOf(name, "2.0.0")).toBe(50);

    await stepBeganLastMinute(name);
    await trafficUntilPass(name, "2.0.0", sent);
    await cron(Date.now() + MINUTE + 1_000);
    const promoted = await rolloutOf(name);
    expect(promoted).toMatchObject({ state: "promoted", nextAction: "none", current: null });
    expect(promoted.results.map((r) => [r.percent, r.verdict])).toEqual([
      [25, "pass"],
      [50, "pass"],
    ]);
    expect(await mainOf(name)).toBe("2.0.0");
    expect(await canaryOf(name, "2.0.0")).toBe(0);

    // Every transition is in the audit trail, the cron's under the actor `rollout`, the promotion as an assign too.
    const { body } = await api<{ audit: AuditRecord[] }>("GET", `/audit?name=${name}`);
    const trail = body.audit
      .filter((row) => row.action === "rollout" || row.action === "assign")
      .map((row) => [row.action, row.actor, row.detail.change ?? row.detail.rollout]);
    expect(trail.reverse()).toEqual([
      ["rollout", "admin-token", "started"],
      ["rollout", "rollout", "advanced"],
      ["assign", "rollout", true],
      ["rollout", "rollout", "promoted"],
    ]);
  });

  it("is aborted as soon as its canary's failing evidence lands, before any cron: canary 0, main unchanged, reasons recorded", {
    timeout: 30_000,
  }, async () => {
    // 3.0.0 answers 503 to everything.
    const name = await labName("rollfail", origins.v3);
    const notify = { url: `${origins.receiver}/ok/${name}`, events: ["rollout"] };
    expect((await api("PUT", `/services/${name}/policy`, { body: { notify } })).status).toBe(200);
    expect((await start(name, "2.0.0", { steps: [20, 50], stepMinutes: 10 })).status).toBe(201);
    // Its 20 % canary share answers those clients with its 503s: a canary's HTTP answer is its answer.
    await traffic(name, 0, 110, false);
    await evidenceLanded(name, "2.0.0", 110);
    // Ten minutes are not up, and no cron has run: a fail aborts at once all the same.
    const deadline = Date.now() + 10_000;
    while ((await rolloutOf(name)).state === "running" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const aborted = await rolloutOf(name);
    expect(aborted.state).toBe("aborted");
    expect(aborted.reasons[0]).toBe("the verdict at 20 % is fail");
    expect(aborted.reasons.join(" ")).toMatch(/error rate/);
    expect(aborted.results.map((r) => r.verdict)).toEqual(["fail"]);
    expect(aborted.current).toBeNull();
    expect(await canaryOf(name, "2.0.0")).toBe(0);
    expect(await mainOf(name)).toBe("1.0.0");
    // Both transitions were notified as `rollout` events, the abort with the failing verdict and its reasons.
    const posts = await receivedEvents(name, 2);
    expect(posts.map((event) => [event.event, event.verdict, event.text.split(",")[0]])).toEqual([
      ["rollout", null, `rollout of ${name} 2.0.0 started at 20 % (steps 20`],
      ["rollout", "fail", `rollout of ${name} 2.0.0 aborted`],
    ]);
    expect(posts[1]?.reasons[0]).toBe("the verdict at 20 % is fail");
  });

  it("still shows a running rollout when its ledger cannot be read: no verdict for the current step, and why", async () => {
    const name = await labName("rolldown");
    expect((await start(name, "2.0.0", { steps: [5, 25] })).status).toBe(201);
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void errors.push(line));
    const down = {
      getByName: () => ({ report: () => Promise.reject(new Error("connection lost")) }),
    } as unknown as Env["EVIDENCE_LEDGER"];
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request(`http://gateway.test/api/v1/services/${name}/rollout`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
      { ...env, EVIDENCE_LEDGER: down },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(200);
    const view = await response.json<RolloutView>();
    expect(view).toMatchObject({ state: "running", step: 0 });
    expect(view.current).toMatchObject({
      percent: 5,
      verdict: null,
      reasons: ["the evidence could not be read: connection lost"],
    });
    expect(errors.map((line) => JSON.parse(line).event)).toEqual(["gate_evidence_unavailable"]);
  });

  it("refuses bad input with 422 naming the field, a rollout on main with 422, and a second one with 409", async () => {
    const name = await labName("rollbad");
    for (const [body, field] of [
      [{ steps: [25, 5] }, "steps"],
      [{ steps: [5, 5] }, "steps"],
      [{ steps: [5, 60] }, "steps"],
      [{ steps: [] }, "steps"],
      [{ steps: [5], stepMinutes: 0.5 }, "stepMinutes"],
      [{ steps: [5], promote: "yes" }, "promote"],
    ] as const) {
      const refused = await start(name, "2.0.0", body);
      expect(refused.status, JSON.stringify(body)).toBe(422);
      expect(refused.body.error?.field).toBe(field);
    }
    const onMain = await start(name, "1.0.0", { steps: [5] });
    expect(onMain.status).toBe(422);
    expect(onMain.body.error?.field).toBe("version");
    expect((await start(name, "9.9.9", { steps: [5] })).status).toBe(404);
    expect(await canaryOf(name, "2.0.0")).toBe(0);

    expect((await start(name, "2.0.0", { steps: [5] })).status).toBe(201);
    const second = await start(name, "2.0.0", { steps: [10] });
    expect(second.status).toBe(409);
    expect(second.body.error?.code).toBe("rollout_running");
    expect(await canaryOf(name, "2.0.0")).toBe(5);
  });

  it("is aborted when its version is killed, or another version is made main, or by hand", async () => {
    const killed = await labName("rollkill");
    expect((await start(killed, "2.0.0", { steps: [5, 25] })).status).toBe(201);
    expect((await api("DELETE", `/services/${killed}/2.0.0`)).status).toBe(200);
    expect(await rolloutOf(killed)).toMatchObject({ state: "aborted", reasons: ["2.0.0 was killed"] });

    const assigned = await labName("rollassign");
    expect((await deploy(assigned, "3.0.0", origins.labMain)).status).toBe(201);
    expect((await start(assigned, "2.0.0", { steps: [5, 25] })).status).toBe(201);
    expect((await api("PUT", `/services/${assigned}/main`, { body: { version: "3.0.0" } })).status).toBe(200);
    expect(await rolloutOf(assigned)).toMatchObject({ state: "aborted" });
    expect(await canaryOf(assigned, "2.0.0")).toBe(0);

    const byHand = await labName("rollabort");
    expect((await start(byHand, "2.0.0", { steps: [5, 25] })).status).toBe(201);
    const aborted = await api<RolloutView>("DELETE", `/services/${byHand}/rollout`);
    expect(aborted.status).toBe(200);
    expect(aborted.body).toMatchObject({ state: "aborted", reasons: ["aborted by hand"] });
    expect(await canaryOf(byHand, "2.0.0")).toBe(0);
    expect((await api("DELETE", `/services/${byHand}/rollout`)).status).toBe(404);
    // A new rollout may start once the last one ended.
    expect((await start(byHand, "2.0.0", { steps: [10] })).status).toBe(201);
  });
});

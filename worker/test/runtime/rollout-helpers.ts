import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, inject } from "vitest";
import type { RolloutView } from "../../src/api/schemas.ts";
import type { EvidenceReport } from "../../src/evidence/verdict.ts";
import worker from "../../src/index.ts";
import type { NotifyEvent } from "../../src/notify/deliver.ts";
import type { ServiceRecord } from "../../src/registry/records.ts";
import type { ReceivedPost } from "../support/receiver.ts";
import { api, deploy, versionsOf } from "./admin-client.ts";
import { gateway, uniqueName } from "./proxy-helpers.ts";

const origins = inject("origins");
export const MINUTE = 60_000;

/** The real cron handler, at a time of the test's choosing (the clock a rollout's steps are measured by). */
export async function cron(atMs: number): Promise<void> {
  const ctx = createExecutionContext();
  worker.scheduled(createScheduledController({ scheduledTime: atMs, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

export const rolloutOf = async (name: string) => (await api<RolloutView>("GET", `/services/${name}/rollout`)).body;
export const canaryOf = async (name: string, version: string) =>
  (await versionsOf(name)).find((v) => v.version === version)?.canaryPercent;
export const mainOf = async (name: string) => (await versionsOf(name)).find((v: ServiceRecord) => v.main)?.version;
export const startRollout = (name: string, version: string, body: unknown) =>
  api<RolloutView>("POST", `/services/${name}/${version}/rollout`, { body });

/**
 * GETs `path` through the gateway with ids `<name>-<from…>`, ten at a time, every answer read whole;
 * `ok` wants 200s. Answers which lab side answered each (the `x-lab` header).
 */
export async function traffic(name: string, from: number, count: number, ok = true, path = "/item") {
  const answeredBy: string[] = [];
  for (let start = from; start < from + count; start += 10) {
    await Promise.all(
      Array.from({ length: 10 }, async (_, k) => {
        const response = await gateway(`/services/${name}${path}`, {
          headers: { "x-request-id": `${name}-${start + k}` },
        });
        if (ok) expect(response.status).toBe(200);
        answeredBy.push(response.headers.get("x-lab") ?? "");
        await response.arrayBuffer();
      }),
    );
  }
  return answeredBy;
}

/** Waits until the ledger holds `count` outcomes of the version (batches land within a second or so). */
export async function evidenceLanded(name: string, version: string, count: number): Promise<void> {
  const deadline = Date.now() + 8_000;
  for (;;) {
    const { body } = await api<EvidenceReport>("GET", `/services/${name}/report`);
    const shadow = body.shadows?.find((s) => s.version === version);
    if ((shadow && shadow.requests.mirrored + shadow.requests.down >= count) || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Lab origins answer /item alike. 5 % limits and alpha 0.2 let ~320 clean requests pass a step: the
 * bands hold at any look, and bounding a p99 from above takes about 310 latencies at that alpha.
 * A p99 within a second of main's passes: the lab answers in a millisecond, but beside the rest of
 * `npm test` on two cores the runtime's own queueing gives either side a tail of hundreds of ms. A
 * clean step alone on the machine passed at 400–500 requests; in clean-clone runs, within 250 ms did
 * not pass in 2,000 (the shadow's p99 bounded at 437 ms against main's at 107 ms, one run of three).
 * These tests are about what a step's verdict does, not about latency, which verdict.test.ts judges.
 */
export async function labName(prefix: string, shadowOrigin = origins.labShadow): Promise<string> {
  const name = uniqueName(prefix);
  expect((await deploy(name, "1.0.0", origins.labMain)).status).toBe(201);
  expect((await deploy(name, "2.0.0", shadowOrigin)).status).toBe(201);
  const gate = { minRequests: 100, maxDiffRate: 0.05, maxErrorRateIncrease: 0.05, alpha: 0.2, minP99DeltaMs: 1_000 };
  expect((await api("PUT", `/services/${name}/policy`, { body: { gate } })).status).toBe(200);
  return name;
}

/** The notification events a name's receiver got, once it has `count` (delivery runs after the response). */
export async function receivedEvents(name: string, count: number, withinMs = 8_000): Promise<NotifyEvent[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const posts: ReceivedPost[] = await (await fetch(`${origins.receiver}/__received?key=${name}`)).json();
    if (posts.length >= count || Date.now() > deadline) return posts.map((post) => post.body as NotifyEvent);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Says the name's running step began a second before the current minute did. A step is judged on
 * the whole minutes since it began, so a test that cannot wait for the next minute says the step
 * began in the previous one, and the traffic it sends now is the step's own (the step has not yet
 * lasted a minute, unless this minute is nearly over).
 */
export async function stepBeganLastMinute(name: string): Promise<void> {
  const since = Math.floor(Date.now() / MINUTE) * MINUTE - 1_000;
  await env.DB.prepare("UPDATE rollouts SET step_since = ? WHERE name = ?").bind(since, name).run();
}

/** Sends `path` traffic in rounds until the running step's verdict so far is `pass`; answers how many were sent. */
export async function trafficUntilPass(name: string, version: string, from: number, most = 2_000): Promise<number> {
  let last: RolloutView["current"] = null;
  for (let sent = 0; sent < most; ) {
    await traffic(name, from + sent, 100);
    sent += 100;
    await evidenceLanded(name, version, from + sent);
    last = (await rolloutOf(name)).current;
    if (last?.verdict === "pass") return sent;
  }
  const why = last ? `${last.verdict}: ${last.reasons.join("; ")}` : "no running step";
  throw new Error(`the step of ${name} ${version} did not pass within ${most} requests (${why})`);
}

/** Waits, when the current minute has less than `seconds` left, until the next one begins. */
export async function roomInThisMinute(seconds: number): Promise<void> {
  const left = MINUTE - (Date.now() % MINUTE);
  if (left < seconds * 1000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

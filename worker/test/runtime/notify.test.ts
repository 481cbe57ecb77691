import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import type { PolicyResult } from "../../src/coordinator/results.ts";
import worker from "../../src/index.ts";
import type { NotifyEvent } from "../../src/notify/deliver.ts";
import type { ReceivedPost } from "../support/receiver.ts";
import { api, deploy, type EvidenceMinute, recordEvidence } from "./admin-client.ts";
import { gateway } from "./proxy-helpers.ts";

// Notifications against a real local webhook receiver: one JSON event per change, retried, never in a client's way.
const origins = inject("origins");

let names = 0;
async function freshName(): Promise<string> {
  const name = `notify_${++names}`;
  expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
  expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
  return name;
}

const setNotify = (name: string, notify: unknown) =>
  api<PolicyResult>("PUT", `/services/${name}/policy`, { body: { notify } });

/** `different` of 400 compared requests differ at body.price (400 clean ones pass at 95 % confidence). */
/** 2,000 compared requests: enough for a clean shadow to pass at any look. */
const evidence = (different: number): EvidenceMinute => ({
  compared: 2000,
  different: different > 0 ? { "body.price": different } : {},
  latencyMs: { main: 20, shadow: 21 },
});

async function received(key: string): Promise<ReceivedPost[]> {
  return (await fetch(`${origins.receiver}/__received?key=${key}`)).json();
}

/** Polls the receiver until `key` got `count` posts (delivery runs after the response). */
async function waitForPosts(key: string, count: number, withinMs = 8_000): Promise<ReceivedPost[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const posts = await received(key);
    if (posts.length >= count || Date.now() > deadline) return posts;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const events = (posts: ReceivedPost[]) => posts.filter((p) => p.answered === 200).map((p) => p.body as NotifyEvent);

async function runCron(at = Date.now()) {
  const ctx = createExecutionContext();
  worker.scheduled(createScheduledController({ scheduledTime: at, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

afterEach(() => {
  vi.restoreAllMocks();
});

const counts = (name: string) => env.SERVICE_COORDINATOR.getByName(name).notificationCounts();

describe("the policy's notify", () => {
  it("takes an https: URL, or http: to loopback, with all events by default; null removes it", async () => {
    const name = await freshName();
    const https = await setNotify(name, { url: "https://hooks.example.com/T0/B0" });
    expect(https.status).toBe(200);
    // Shown by scheme and host only: the path is the receiver's secret.
    expect(https.body.notify).toEqual({
      url: "https://hooks.example.com/…",
      events: ["verdict", "assign", "kill", "rollout", "replay"],
    });
    const local = await setNotify(name, { url: "http://127.0.0.1:9/x", events: ["kill"] });
    expect(local.body.notify).toEqual({ url: "http://127.0.0.1:9/…", events: ["kill"] });
    // Other policy changes leave it alone.
    expect(
      (await api<PolicyResult>("PUT", `/services/${name}/policy`, { body: { noisePercent: 3 } })).body.notify,
    ).toEqual(local.body.notify);
    expect((await setNotify(name, null)).body.notify).toBeNull();
  });

  it("refuses a plain-http URL off loopback, another scheme, credentials and unknown events, naming the field", async () => {
    const name = await freshName();
    const cases: [unknown, string, string][] = [
      [
        { url: "http://hooks.example.com/x" },
        "notify.url",
        "must use https: (http: only to a loopback address such as 127.0.0.1)",
      ],
      [{ url: "ftp://hooks.example.com/x" }, "notify.url", "must use https:, not ftp:"],
      [{ url: "https://user:pw@hooks.example.com/x" }, "notify.url", "must not contain credentials"],
      [{ url: "hooks" }, "notify.url", "must be an absolute https:// URL"],
      [
        { url: "https://h.example.com", events: ["deploy"] },
        "notify.events.0",
        "must be a list of events from verdict, assign, kill, rollout, replay",
      ],
      [{ url: "https://h.example.com", events: [] }, "notify.events", "must name at least one event"],
      [{ url: "https://h.example.com", events: ["kill", "kill"] }, "notify.events", "must not name an event twice"],
      [{ events: ["kill"] }, "notify.url", "is required: no URL is stored for this name yet"],
    ];
    for (const [notify, field, problem] of cases) {
      const res = await setNotify(name, notify);
      expect(res.status, JSON.stringify(notify)).toBe(422);
      expect(res.body.error).toMatchObject({ field, message: `${field} ${problem}` });
    }
    expect((await api<PolicyResult>("GET", `/services/${name}/policy`)).body.notify).toBeNull();
  });
});

describe("events", () => {
  it("assign sends one event with the verdict the gate decided on", async () => {
    const name = await freshName();
    await setNotify(name, { url: `${origins.receiver}/ok/${name}` });
    await recordEvidence(name, "2.0.0", evidence(0));
    expect((await api("PUT", `/services/${name}/main`, { body: { version: "2.0.0" } })).status).toBe(200);
    const [event, ...more] = events(await waitForPosts(name, 1));
    expect(more).toEqual([]);
    expect(event).toEqual({
      event: "assign",
      service: name,
      version: "2.0.0",
      verdict: "pass",
      reasons: expect.arrayContaining([
        expect.stringMatching(/^0 of 2,000 compared requests differ \(0%, at most 0.\d+% at any look\), within 1%$/),
      ]),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      text: `${name} 2.0.0 is now main, verdict pass over the last hour`,
    });
    // Assigning the main again changes nothing, so it tells nothing.
    expect((await api("PUT", `/services/${name}/main`, { body: { version: "2.0.0" } })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await received(name)).toHaveLength(1);
  });

  it("kill sends one event per killed version, even when the name (and its policy) goes", async () => {
    const name = await freshName();
    await setNotify(name, { url: `${origins.receiver}/ok/${name}`, events: ["kill"] });
    expect((await api("DELETE", `/services/${name}/2.0.0`)).status).toBe(200);
    expect(events(await waitForPosts(name, 1))).toEqual([
      expect.objectContaining({ event: "kill", service: name, version: "2.0.0", text: `${name} 2.0.0 was killed` }),
    ]);
    expect((await api("DELETE", `/services/${name}`)).status).toBe(200);
    expect(events(await waitForPosts(name, 2)).map((e) => [e.event, e.version, e.text])).toEqual([
      ["kill", "2.0.0", `${name} 2.0.0 was killed`],
      ["kill", "1.0.0", `${name} 1.0.0 was killed (it was main)`],
    ]);
  });

  it("sends only the events the target asked for", async () => {
    const name = await freshName();
    await setNotify(name, { url: `${origins.receiver}/ok/${name}`, events: ["kill"] });
    await recordEvidence(name, "2.0.0", evidence(0));
    expect((await api("PUT", `/services/${name}/main`, { body: { version: "2.0.0" } })).status).toBe(200);
    await runCron();
    expect((await api("DELETE", `/services/${name}/1.0.0`)).status).toBe(200);
    expect(events(await waitForPosts(name, 1)).map((e) => e.event)).toEqual(["kill"]);
  });

  it("a verdict change found by the cron is told once, not once a minute", async () => {
    const name = await freshName();
    await setNotify(name, { url: `${origins.receiver}/ok/${name}`, events: ["verdict"] });
    await runCron();
    expect(await received(name)).toEqual([]); // inconclusive from the start: nothing changed
    await recordEvidence(name, "2.0.0", evidence(0));
    await runCron();
    await runCron();
    expect(events(await waitForPosts(name, 1)).map((e) => [e.verdict, e.text.split(":")[0]])).toEqual([
      ["pass", `${name} 2.0.0 is now pass (was inconclusive) over the last hour`],
    ]);
    await recordEvidence(name, "2.0.0", evidence(600));
    for (let minute = 0; minute < 3; minute++) await runCron();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const told = events(await received(name));
    expect(told.map((e) => [e.event, e.version, e.verdict])).toEqual([
      ["verdict", "2.0.0", "pass"],
      ["verdict", "2.0.0", "fail"],
    ]);
    expect(told[1]?.text).toMatch(
      new RegExp(
        `^${name} 2.0.0 is now fail \\(was pass\\) over the last hour: ` +
          "600 of 4,000 compared requests differ \\(15%, at least 1\\d(\\.\\d+)?% at any look\\), more than the 1% allowed; " +
          "top fields: body.price \\(value, 15%\\)$",
      ),
    );
    expect(told[1]?.reasons).toHaveLength(1);
  });

  it("a verdict that goes inconclusive and comes back is not told again", async () => {
    const name = await freshName();
    await setNotify(name, { url: `${origins.receiver}/ok/${name}`, events: ["verdict"] });
    await recordEvidence(name, "2.0.0", evidence(0));
    await runCron();
    expect(events(await waitForPosts(name, 1)).map((e) => e.verdict)).toEqual(["pass"]);
    // Two hours on, the last hour holds no evidence: inconclusive. Then the same hour again: pass.
    await runCron(Date.now() + 2 * 3_600_000);
    await runCron();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events(await received(name)).map((e) => e.verdict)).toEqual(["pass"]);
  });
});

describe("delivery", () => {
  it("retries a receiver that fails twice, which then gets the event once", async () => {
    const name = await freshName();
    await setNotify(name, { url: `${origins.receiver}/flaky/${name}`, events: ["kill"] });
    expect((await api("DELETE", `/services/${name}/2.0.0`)).status).toBe(200);
    const posts = await waitForPosts(name, 3);
    expect(posts.map((p) => p.answered)).toEqual([503, 503, 200]);
    expect(posts.map((p) => (p.body as NotifyEvent).version)).toEqual(["2.0.0", "2.0.0", "2.0.0"]);
    // Backing off: the third try came at least 0.5 s + 1 s after the first.
    expect((posts[2]?.receivedAt ?? 0) - (posts[0]?.receivedAt ?? 0)).toBeGreaterThanOrEqual(1_400);
    expect(posts[0]?.headers["content-type"]).toBe("application/json");
    await expect.poll(() => counts(name)).toEqual({ delivered: 1, failed: 0 });
  });

  it("a receiver that is always down costs clients nothing: answers first, gives up later, logged and counted", async () => {
    const errors = vi.spyOn(console, "error");
    const name = await freshName();
    await setNotify(name, { url: `${origins.dead}/hook`, events: ["assign", "kill"] });
    await recordEvidence(name, "2.0.0", evidence(0));
    const assign = await api("PUT", `/services/${name}/main`, { body: { version: "2.0.0" } });
    expect(assign.status).toBe(200);
    // Four tries with 0.5, 1 and 2 s between them take at least 3.5 s; the answer did not wait for them.
    expect(await counts(name)).toEqual({ delivered: 0, failed: 0 });

    // Main's latency while the delivery is being retried in the background.
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const response = await gateway(`/services/${name}/latency?i=${i}`, {
        headers: { "x-request-id": `${name}-${i}` },
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    const p50 = latencies[10] ?? 0;
    const max = latencies.at(-1) ?? 0;
    console.log(`main while the receiver is down: p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms over 20 requests`);
    // A correctness bound, not a benchmark: no request waited for the retries' backoff (0.5 + 1 + 2 s).
    expect(max).toBeLessThan(3_500);

    await expect.poll(() => counts(name), { timeout: 10_000, interval: 200 }).toEqual({ delivered: 0, failed: 1 });
    // Logged once, naming the receiver's host only: a webhook's path is often its secret.
    const logged = errors.mock.calls
      .map(([line]) => (typeof line === "string" && line.startsWith("{") ? JSON.parse(line) : undefined))
      .filter((line) => line?.event === "notify_failed" && line.service === name);
    expect(logged).toEqual([
      {
        event: "notify_failed",
        kind: "assign",
        service: name,
        version: "2.0.0",
        host: new URL(origins.dead).host,
        attempts: 4,
        reason: expect.any(String),
      },
    ]);
    expect(JSON.stringify(logged)).not.toContain("/hook");
  });
});

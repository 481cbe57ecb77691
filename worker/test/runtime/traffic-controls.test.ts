import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import worker from "../../src/index.ts";
import type { MirrorLog, MirrorSkippedLog, ShadowOutcome } from "../../src/proxy/mirror.ts";
import { PAUSE_MS } from "../../src/proxy/pause.ts";
import { isSampled, requestBucket } from "../../src/proxy/sampling.ts";
import type { RecordedRequest } from "../support/origins.ts";
import { deploy, GATEWAY, gateway, seenBy, uniqueName, waitForSeen, withVars } from "./proxy-helpers.ts";

const origins = inject("origins");

/** Traffic controls written straight into D1, as a PATCH would leave them. */
async function setControls(name: string, version: string, percent: number, methods: string[] | null = null) {
  await env.DB.prepare("UPDATE services SET mirror_percent = ?, mirror_methods = ? WHERE name = ? AND version = ?")
    .bind(percent, methods === null ? null : JSON.stringify(methods), name, version)
    .run();
}

const setStatus = (name: string, version: string, status: string) =>
  env.DB.prepare("UPDATE services SET status = ? WHERE name = ? AND version = ?").bind(status, name, version).run();

/** The X-Request-Ids an origin received for one name. */
async function idsSeen(origin: string, name: string): Promise<Set<string>> {
  const all: RecordedRequest[] = await (await fetch(`${new URL(origin).origin}/__requests`)).json();
  return new Set(
    all
      .filter((r) => r.headers["x-forwarded-prefix"] === `/services/${name}`)
      .map((r) => String(r.headers["x-request-id"])),
  );
}

/** Polls until an origin has seen exactly `expected` ids of a name (copies arrive in the background). */
async function waitForIds(origin: string, name: string, expected: number, withinMs = 5_000): Promise<Set<string>> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const ids = await idsSeen(origin, name);
    if (ids.size >= expected || Date.now() > deadline) return ids;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sends `count` GETs with ids `<name>-<i>`, a few at a time, and drains every answer. */
async function sendMany(name: string, count: number, init: RequestInit = {}): Promise<string[]> {
  // Fixed ids, the same every run (requests are told apart by name): the sampled share is then exact, never a flake.
  const ids = Array.from({ length: count }, (_, i) => `traffic-${i}`);
  for (let start = 0; start < ids.length; start += 20) {
    await Promise.all(
      ids.slice(start, start + 20).map(async (id) => {
        const response = await gateway(`/services/${name}/item`, { ...init, headers: { "x-request-id": id } });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
      }),
    );
  }
  return ids;
}

/** Captures the worker's mirror lines: each shadow's outcome by request id, and the tallies of requests that sent none. */
function captureMirrorLog() {
  const lines: MirrorLog[] = [];
  const tallies: MirrorSkippedLog[] = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    if (typeof line !== "string") return;
    if (line.startsWith('{"event":"mirror"')) lines.push(JSON.parse(line) as MirrorLog);
    if (line.startsWith('{"event":"mirror_skipped"')) tallies.push(JSON.parse(line) as MirrorSkippedLog);
  });
  return {
    async of(requestId: string, withinMs = 3_000): Promise<ShadowOutcome[]> {
      const deadline = Date.now() + withinMs;
      for (;;) {
        const line = lines.find((l) => l.requestId === requestId);
        if (line || Date.now() > deadline) return line?.shadows ?? [];
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    /** `version reason` → requests of `name` that sent no copy, summed over the tally lines so far. */
    skipped(name: string): Record<string, number> {
      const counts: Record<string, number> = {};
      for (const tally of tallies.filter((t) => t.name === name)) {
        for (const { version, skipped, count } of tally.shadows) {
          counts[`${version} ${skipped}`] = (counts[`${version} ${skipped}`] ?? 0) + count;
        }
      }
      return counts;
    },
    async waitForSkipped(name: string, key: string, count: number, withinMs = 3_000) {
      const deadline = Date.now() + withinMs;
      while ((this.skipped(name)[key] ?? 0) < count && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return this.skipped(name);
    },
  };
}

beforeEach(() => {
  // A mirror line per request: hundreds per test.
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("sampling", () => {
  it("at 25 % sends the shadow the requests the documented hash picks, 18–32 % of 400, and main all of them", async () => {
    const name = uniqueName("quarter");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    await setControls(name, "2.0.0", 25);
    const ids = await sendMany(name, 400);
    const predicted = ids.filter((id) => isSampled(requestBucket(id), 25));
    const reached = await waitForIds(origins.v2, name, predicted.length);
    expect(reached.size).toBeGreaterThanOrEqual(0.18 * 400);
    expect(reached.size).toBeLessThanOrEqual(0.32 * 400);
    expect([...reached].sort()).toEqual([...predicted].sort());
    expect((await idsSeen(origins.v1, name)).size).toBe(400);
  });

  it("sends every request a 10 % shadow gets to a 50 % shadow too", async () => {
    const name = uniqueName("nested");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    await deploy(name, "3.0.0", origins.v3);
    await setControls(name, "2.0.0", 10);
    await setControls(name, "3.0.0", 50);
    const ids = await sendMany(name, 300);
    const tenExpected = ids.filter((id) => isSampled(requestBucket(id), 10)).length;
    const fiftyExpected = ids.filter((id) => isSampled(requestBucket(id), 50)).length;
    const ten = await waitForIds(origins.v2, name, tenExpected);
    const fifty = await waitForIds(origins.v3, name, fiftyExpected);
    expect(ten.size).toBe(tenExpected);
    expect(fifty.size).toBe(fiftyExpected);
    expect(ten.size).toBeGreaterThan(0);
    for (const id of ten) expect(fifty.has(id)).toBe(true);
  });

  it("mirrors nothing at 0 % and everything at 100 %, and logs each skipped copy", async () => {
    const log = captureMirrorLog();
    const name = uniqueName("allnone");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    await deploy(name, "3.0.0", origins.v3);
    await setControls(name, "2.0.0", 0);
    await setControls(name, "3.0.0", 100);
    const ids = await sendMany(name, 60);
    expect((await waitForIds(origins.v3, name, 60)).size).toBe(60);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await idsSeen(origins.v2, name)).size).toBe(0);
    expect(await log.of(ids[0] ?? "")).toEqual([
      { version: "3.0.0", status: 503, ms: expect.any(Number) },
      { version: "2.0.0", skipped: "sampled out" },
    ]);
  });
});

describe("methods", () => {
  it("with GET only, a POST reaches main alone and a GET reaches both", async () => {
    const log = captureMirrorLog();
    const name = uniqueName("methods");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    await setControls(name, "2.0.0", 100, ["GET", "HEAD"]);
    const post = await gateway(`/services/${name}/orders`, {
      method: "POST",
      headers: { "x-request-id": `${name}-post` },
      body: "{}",
    });
    expect(await post.json()).toMatchObject({ version: "1.0.0", method: "POST" });
    const get = await gateway(`/services/${name}/orders`, { headers: { "x-request-id": `${name}-get` } });
    await get.arrayBuffer();
    expect(await waitForSeen(origins.v2, `${name}-get`)).toHaveLength(1);
    expect(await seenBy(origins.v2, `${name}-post`)).toEqual([]);
    expect(await seenBy(origins.v1, `${name}-post`)).toHaveLength(1);
    // A request that sent no copy has no line of its own: it is tallied, once a second.
    expect(await log.waitForSkipped(name, "2.0.0 method", 1)).toEqual({ "2.0.0 method": 1 });
  });
});

describe("unreachable shadows", () => {
  async function probeNow() {
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
  }

  it("gives a shadow the probe marked unreachable nothing until the next probe finds it up; main and pinned requests go on", async () => {
    const log = captureMirrorLog();
    const name = uniqueName("unreach");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    await setStatus(name, "2.0.0", "unreachable");
    await sendMany(name, 20);
    expect((await idsSeen(origins.v1, name)).size).toBe(20);
    expect(await log.waitForSkipped(name, "2.0.0 unreachable", 20)).toEqual({ "2.0.0 unreachable": 20 });
    // A pinned request is never held back by the traffic controls.
    const pinned = await gateway(`/services/${name}_2.0.0/`, { headers: { "x-request-id": `${name}-pinned` } });
    expect(await pinned.json()).toMatchObject({ version: "2.0.0" });
    expect((await idsSeen(origins.v2, name)).size).toBe(0);

    await probeNow();
    const after = await gateway(`/services/${name}/item`, { headers: { "x-request-id": `${name}-after` } });
    await after.arrayBuffer();
    expect(await waitForSeen(origins.v2, `${name}-after`)).toHaveLength(1);
  });
});

describe("pauses", () => {
  it("pauses a shadow after 5 failed connections, then lets one trial copy through after 10 s", async () => {
    const log = captureMirrorLog();
    const { port } = (await (await fetch(`${origins.labMain}/__free-port`)).json()) as { port: number };
    const name = uniqueName("pause");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", `http://127.0.0.1:${port}`);
    // Comparison off: the pause guards connections whatever is done with the answers, and the test stays quick.
    // Every request's line, the clean ones too: they show the trial copy got through.
    const send = async (i: number) => {
      const request = new Request(`${GATEWAY}/services/${name}/item`, { headers: { "x-request-id": `${name}-${i}` } });
      const { response, settled } = await withVars({ COMPARE_RESPONSES: "off", MIRROR_LOG: "all" }, request);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      const pausedBefore = log.skipped(name)["2.0.0 paused"] ?? 0;
      await settled();
      // A copy sent has its line; a request that sent none shows in the tally.
      const outcomes = await log.of(`${name}-${i}`, 0);
      if (outcomes.length > 0) return outcomes;
      return (log.skipped(name)["2.0.0 paused"] ?? 0) > pausedBefore ? [{ version: "2.0.0", skipped: "paused" }] : [];
    };
    for (let i = 0; i < 5; i++) {
      expect(await send(i)).toEqual([{ version: "2.0.0", error: expect.any(String), ms: expect.any(Number) }]);
    }
    const pausedAt = Date.now();
    expect(await send(5)).toEqual([{ version: "2.0.0", skipped: "paused" }]);

    // The shadow comes back on its port, but the pause holds until its 10 s are up.
    await fetch(`${origins.labMain}/__listen?port=${port}`, { method: "POST" });
    try {
      expect(await send(6)).toEqual([{ version: "2.0.0", skipped: "paused" }]);
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS - (Date.now() - pausedAt) + 100));
      expect(await send(7)).toEqual([{ version: "2.0.0", status: 200, ms: expect.any(Number) }]);
      expect(await seenBy(origins.labMain, `${name}-7`)).toHaveLength(1);
      // The trial reached it: copies flow again.
      expect(await send(8)).toEqual([{ version: "2.0.0", status: 200, ms: expect.any(Number) }]);
    } finally {
      await fetch(`${origins.labMain}/__unlisten?port=${port}`, { method: "POST" });
    }
  }, 20_000);
});

describe("evidence of skipped copies", () => {
  it("counts copies the controls held back under requests.skipped, not mirrored", async () => {
    const name = uniqueName("skipcount");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    await setControls(name, "2.0.0", 0);
    await sendMany(name, 30);
    const ledger = env.EVIDENCE_LEDGER.getByName(name);
    const deadline = Date.now() + 5_000;
    let skipped = 0;
    let mirrored = -1;
    while (Date.now() < deadline && skipped < 30) {
      const report = await ledger.report({
        name,
        from: Date.now() - 3_600_000,
        to: Date.now() + 60_000,
        main: "1.0.0",
        shadows: ["2.0.0"],
      });
      skipped = report.shadows[0]?.requests.skipped ?? 0;
      mirrored = report.shadows[0]?.requests.mirrored ?? -1;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(skipped).toBe(30);
    expect(mirrored).toBe(0);
  });
});

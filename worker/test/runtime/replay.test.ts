import { describe, expect, inject, it } from "vitest";
import type { EvidenceReport } from "../../src/evidence/verdict.ts";
import { api } from "./admin-client.ts";
import { deploy, uniqueName } from "./proxy-helpers.ts";
import {
  bucketOf,
  capturedRequests,
  capturedWindow,
  finished,
  pathOf,
  replayedTo,
  SECRET,
  sendGets,
  setCapture,
  startReplay,
  twinOf,
} from "./replay-support.ts";

const origins = inject("origins");

describe("a captured window replayed", () => {
  it("to an identical version: the requests arrive marked, with the same paths and queries, and it does not fail", async () => {
    const twin = await twinOf(origins.v1);
    // 2.0.0 is deployed only after the window, with no live copies: replay is how it sees traffic.
    const { name, from } = await capturedWindow("replay", 120, origins.v1, twin.url);

    const replay = await startReplay(name, "2.0.0", { from, rate: 100 });
    expect(replay).toMatchObject({ version: "2.0.0", state: "running", total: 120, rate: 100 });
    const done = await finished(name, replay.id);
    expect(done).toMatchObject({ state: "done", sent: 120, total: 120 });
    expect(done.verdict.outcome).not.toBe("fail");
    // Compared with main's captured answers: all the same.
    expect(done.requests.compared).toBeGreaterThanOrEqual(110);
    expect(done.requests.different).toBe(0);

    const arrived = await replayedTo(origins.v1, replay.id, twin.host);
    expect(arrived.length).toBeGreaterThanOrEqual(110);
    for (const request of arrived) {
      expect(request.headers["x-daeploy-shadow"]).toBe("1");
      expect(request.headers.authorization).toBeUndefined();
      expect(request.headers.cookie).toBeUndefined();
    }
    const sent = new Set(Array.from({ length: 120 }, (_, i) => pathOf(i)));
    const urls = arrived.map((r) => r.url);
    for (const url of urls) expect(sent.has(url), url).toBe(true);
    // Never twice: one request id per replayed request.
    expect(new Set(arrived.map((r) => r.headers["x-request-id"])).size).toBe(arrived.length);
  }, 60_000);

  it("to a version that answers differently: fail, naming the differing field", async () => {
    const { name, from } = await capturedWindow("replayfail", 120, origins.v1, origins.v2);

    const replay = await startReplay(name, "2.0.0", { from, rate: 100 });
    const done = await finished(name, replay.id);
    expect(done.state).toBe("done");
    expect(done.verdict.outcome).toBe("fail");
    expect(done.reasons.join("\n")).toContain("body.version");
    expect(done.requests.different).toBeGreaterThanOrEqual(110);
    // The report shows the same evidence under the replay's baseline.
    const report = await api<EvidenceReport>("GET", `/services/${name}/report?baseline=replay:${replay.id}`);
    expect(report.status).toBe(200);
    const shadow = report.body.shadows.find((s) => s.version === "2.0.0");
    expect(shadow?.verdict).toBe("fail");
    expect(shadow?.fields.map((f) => f.path)).toContain("body.version");
    // Live evidence is untouched: 2.0.0 got no live copies before the replay and none from it.
    const live = await api<EvidenceReport>("GET", `/services/${name}/report`);
    expect(live.body.shadows.find((s) => s.version === "2.0.0")?.requests.mirrored ?? 0).toBe(0);
  }, 60_000);

  it("at rate 40 never sends more than 60 in any second", async () => {
    const twin = await twinOf(origins.v1);
    const { name, from } = await capturedWindow("replayrate", 120, origins.v1, twin.url);

    const replay = await startReplay(name, "2.0.0", { from, rate: 40 });
    const done = await finished(name, replay.id);
    expect(done).toMatchObject({ state: "done", sent: 120 });
    const times = (await replayedTo(origins.v1, replay.id, twin.host)).map((r) => r.receivedAt).sort((a, b) => a - b);
    expect(times.length).toBeGreaterThanOrEqual(110);
    // Every one-second window, starting at each arrival.
    let most = 0;
    for (const [i, start] of times.entries()) {
      let j = i;
      while (j < times.length && (times[j] ?? Infinity) < start + 1_000) j++;
      most = Math.max(most, j - i);
    }
    expect(most).toBeLessThanOrEqual(60);
    // And it was paced, not sent at once: 120 at 40 a second take more than two seconds.
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThan(2_000);
  }, 60_000);
});

describe("capture", () => {
  it("never stores a client's Authorization or Cookie: not one R2 object holds them", async () => {
    const name = uniqueName("capsecret");
    await deploy(name, "1.0.0", origins.v1);
    await setCapture(name, { percent: 100 });
    await sendGets(name, 20);
    await capturedRequests(name, 20);
    const objects = await bucketOf(name);
    expect(objects.length).toBeGreaterThan(0);
    const stored = objects.map((o) => o.text).join("");
    expect(stored.split("\n").filter(Boolean)).toHaveLength(20);
    expect(stored).not.toContain("end-user-s3cret");
    expect(stored).not.toContain("c00kie-of-ann");
    expect(stored).not.toContain(SECRET);
    expect(stored).toMatch(/"authorization":"REDACTED:[0-9a-f]{8}"/);
  }, 30_000);
});

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { capturedWindow, eventually, finished, replayedTo, replayOf, startReplay, twinOf } from "./replay-support.ts";

const origins = inject("origins");

describe("a replay whose Durable Object restarts", () => {
  it("resumes where it was and sends no request twice", async () => {
    const twin = await twinOf(origins.v1);
    const { name, from } = await capturedWindow("replayrestart", 60, origins.v1, twin.url);

    const replay = await startReplay(name, "2.0.0", { from, rate: 10 });
    // Restarted in the middle of a second's sending: some of its requests have arrived, some not.
    await eventually("25 replayed requests to arrive", async () => {
      const arrived = await replayedTo(origins.v1, replay.id, twin.host);
      return arrived.length >= 25 ? arrived : undefined;
    });
    const before = await replayOf(name, replay.id);
    expect(before.state).toBe("running");
    // Its in-memory state is gone, its storage and its alarm stay.
    const runner = env.REPLAY_RUNNER.getByName(`${name}/${replay.id}`);
    await expect(runInDurableObject(runner, (_instance, state) => state.abort("restart"))).rejects.toThrow("restart");

    const done = await finished(name, replay.id, 60_000);
    expect(done).toMatchObject({ state: "done", sent: 60, total: 60 });
    const arrived = await replayedTo(origins.v1, replay.id, twin.host);
    const seqs = arrived.map((r) => Number(String(r.headers["x-request-id"]).split(".")[1]));
    // Never twice; at most the one second in flight at the restart is lost.
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.length).toBeGreaterThanOrEqual(50);
    // It went on after the restart, to the end of the window.
    expect(Math.max(...seqs)).toBe(59);
    expect(seqs.filter((seq) => seq >= before.sent).length).toBeGreaterThan(0);
  }, 90_000);
});

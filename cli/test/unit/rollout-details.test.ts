import { describe, expect, it } from "vitest";
import type { Rollout } from "../../src/client.ts";
import { progressLine, rolloutDetails } from "../../src/rollout.ts";

const running = (current: Rollout["current"]): Rollout => ({
  name: "hello",
  version: "2.0.0",
  state: "running",
  steps: [5, 25],
  stepMinutes: 10,
  promote: true,
  step: 1,
  percent: 25,
  since: "2026-11-30T12:10:00.000Z",
  stepEndsAt: "2026-11-30T12:20:00.000Z",
  startedAt: "2026-11-30T12:00:00.000Z",
  endedAt: null,
  results: [{ percent: 5, verdict: "pass", reasons: ["within limits"], at: "2026-11-30T12:10:00.000Z" }],
  current,
  reasons: [],
  nextAction: "promote 2.0.0 to main in 5 min at the earliest, once the verdict at 25 % is pass; abort at once on fail",
});

const judged = (verdict: "pass" | "fail" | "inconclusive" | null, reasons: string[]) => ({
  percent: 25,
  verdict,
  reasons,
  since: "2026-11-30T12:10:00.000Z",
  at: "2026-11-30T12:15:00.000Z",
});

describe("rollout status's step lines", () => {
  it("show a failing current step, with every reason, on its line before the cron aborts it", () => {
    const lines = rolloutDetails(running(judged("fail", ["error rate 40%", "body.\u001b[2Jtotal differs"])));
    expect(lines.slice(0, 2)).toEqual([
      "  step 1: 5 % pass",
      "  step 2: 25 % running, fail so far: error rate 40%; body.\\x1b[2Jtotal differs",
    ]);
  });

  it("say when the evidence could not be read, and say nothing more for a gateway that sends no current step", () => {
    const unread = rolloutDetails(running(judged(null, ["the evidence could not be read: timeout"])));
    expect(unread[1]).toBe("  step 2: 25 % running, no verdict so far: the evidence could not be read: timeout");
    const { current: _, ...older } = running(null);
    expect(rolloutDetails(older as Rollout)[1]).toBe("  step 2: 25 % running");
  });
});

describe("rollout status's progress line", () => {
  const afterTheStep = new Date("2026-11-30T12:21:00.000Z");

  it("says a step past its time moves on at the next look when its verdict so far passes", () => {
    expect(progressLine(running(judged("pass", ["within limits"])), afterTheStep)).toContain(
      "step time is up and it passes: the next look moves it on",
    );
    expect(progressLine(running(judged("fail", ["error rate 40%"])), afterTheStep)).toContain(
      "step time is up and it fails: the next look aborts it",
    );
    expect(progressLine(running(judged("inconclusive", [])), afterTheStep)).toContain(
      "step time is up, waiting for a pass",
    );
  });

  it("counts the minutes left while the step runs", () => {
    expect(progressLine(running(judged("pass", [])), new Date("2026-11-30T12:15:30.000Z"))).toContain(
      "5 min left in the step",
    );
  });
});

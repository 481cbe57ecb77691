import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AppError } from "../../src/errors.ts";
import { RolloutWatch } from "../../src/evidence/rollout-watch.ts";
import { decideRolloutGate, decideStepVerdict, stepWindows } from "../../src/registry/rollout.ts";

const at = (iso: string) => Date.parse(iso);
const pass = { verdict: "pass" as const, reasons: ["0 of 300 compared requests differ"] };
const fail = { verdict: "fail" as const, reasons: ["shadow error rate 100%"] };
const inconclusive = { verdict: "inconclusive" as const, reasons: ["12 copies with an outcome"] };

describe("stepWindows", () => {
  it("passes on the whole minutes after the step began, and fails from the minute it began in", () => {
    const windows = stepWindows({ stepSince: new Date("2026-12-06T10:00:20Z") }, at("2026-12-06T10:03:05Z"));
    expect(windows.pass.from).toBe(at("2026-12-06T10:01:00Z"));
    expect(windows.fail.from).toBe(at("2026-12-06T10:00:00Z"));
    expect(windows.pass.to).toBe(at("2026-12-06T10:03:05Z") + 1);
  });

  it("uses one window when the step began on a minute", () => {
    const windows = stepWindows({ stepSince: new Date("2026-12-06T10:00:00Z") }, at("2026-12-06T10:00:30Z"));
    expect(windows.pass.from).toBe(windows.fail.from);
  });
});

describe("decideStepVerdict", () => {
  const windows = stepWindows({ stepSince: new Date("2026-12-06T10:00:20Z") }, at("2026-12-06T10:03:05Z"));

  it("fails on a fail in either window", () => {
    expect(decideStepVerdict({ fail }, 100, windows)).toMatchObject({ verdict: "fail", since: windows.fail.from });
    const own = decideStepVerdict({ fail: pass, pass: { ...fail, canaryAnswered: 500 } }, 100, windows);
    expect(own).toMatchObject({ verdict: "fail", since: windows.pass.from });
  });

  it("waits for the step's first whole minute before it can pass", () => {
    const judged = decideStepVerdict({ fail: pass }, 100, windows);
    expect(judged).toEqual({
      verdict: "inconclusive",
      reasons: ["the step's evidence starts with its first whole minute, at 10:01 UTC"],
      since: windows.pass.from,
    });
  });

  it("passes only with minRequests answered by the canary", () => {
    const few = decideStepVerdict({ fail: pass, pass: { ...pass, canaryAnswered: 99 } }, 100, windows);
    expect(few.verdict).toBe("inconclusive");
    expect(few.reasons).toEqual([
      "99 requests answered by the canary since 10:01 UTC, fewer than the 100 a step needs",
    ]);
    const enough = decideStepVerdict({ fail: pass, pass: { ...pass, canaryAnswered: 100 } }, 100, windows);
    expect(enough).toEqual({ verdict: "pass", reasons: pass.reasons, since: windows.pass.from });
  });

  it("keeps an inconclusive step's own reasons", () => {
    const judged = decideStepVerdict({ fail: pass, pass: { ...inconclusive, canaryAnswered: 3 } }, 100, windows);
    expect(judged).toMatchObject({ verdict: "inconclusive", reasons: inconclusive.reasons });
  });
});

describe("decideRolloutGate", () => {
  const options = { force: false, window: "1h" };

  it("refuses a failing version with its reasons, and lets force through with a warning", () => {
    let refusal: unknown;
    try {
      decideRolloutGate(fail, "shop", "2.0.0", options);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({ status: 409, code: "gate_failed", reasons: fail.reasons });
    expect(decideRolloutGate(fail, "shop", "2.0.0", { ...options, force: true }).warning).toBe(
      "shop 2.0.0 (last 1h) fails the gate; the rollout started anyway (forced)",
    );
  });

  it("fails closed when the evidence cannot be read, unless forced", () => {
    expect(() => decideRolloutGate({ unavailable: "timed out" }, "shop", "2.0.0", options)).toThrow(
      expect.objectContaining({ status: 409, code: "evidence_unavailable" }),
    );
    const forced = decideRolloutGate({ unavailable: "timed out" }, "shop", "2.0.0", { ...options, force: true });
    expect(forced.warning).toMatch(/could not be read \(timed out\); the rollout started unchecked/);
  });

  it("starts a passing or not yet decided version without a word", () => {
    expect(decideRolloutGate(pass, "shop", "2.0.0", options)).toEqual({});
    expect(decideRolloutGate(inconclusive, "shop", "2.0.0", options)).toEqual({});
  });
});

describe("RolloutWatch", () => {
  const canary = (version: string) => [{ version, canary: true }];
  const copies = (version: string) => [{ version, canary: false }];

  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("asks at once, then at most once per interval per version, and once more for evidence in between", async () => {
    const asked: [string, number][] = [];
    const watch = new RolloutWatch(async (version) => {
      asked.push([version, Date.now()]);
      return true;
    }, 2_000);
    const start = Date.now();
    watch.saw(canary("2.0.0"));
    watch.saw(canary("3.0.0"));
    for (let k = 0; k < 10; k++) {
      await vi.advanceTimersByTimeAsync(300);
      watch.saw(canary("2.0.0"));
    }
    await vi.advanceTimersByTimeAsync(5_000);
    const times = (version: string) => asked.filter(([v]) => v === version).map(([, t]) => t - start);
    expect(times("3.0.0")).toEqual([0]);
    // Batches every 300 ms for 3 s: asked at 0, 2 s and 4 s (the last for the batches after 2 s).
    expect(times("2.0.0")).toEqual([0, 2_000, 4_000]);
  });

  it("starts on canary answers, then watches copies too while the rollout runs, and stops when it ended", async () => {
    let running = true;
    let asks = 0;
    const watch = new RolloutWatch(async () => {
      asks++;
      return running;
    }, 1_000);
    // Copies alone of a version nobody said was rolling out ask nothing: every shadow has copies.
    watch.saw(copies("2.0.0"));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(asks).toBe(0);
    watch.saw(canary("2.0.0"));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(asks).toBe(1);
    watch.saw(copies("2.0.0"));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(asks).toBe(2);
    running = false;
    watch.saw(copies("2.0.0"));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(asks).toBe(3);
    watch.saw(copies("2.0.0"));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(asks).toBe(3);
  });

  it("never asks twice at once for a version, and a failed ask is logged, not thrown", async () => {
    let running = 0;
    let most = 0;
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const watch = new RolloutWatch(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      running--;
      throw new Error("coordinator unreachable");
    }, 1_000);
    for (let k = 0; k < 20; k++) {
      watch.saw(canary("2.0.0"));
      await vi.advanceTimersByTimeAsync(500);
    }
    await vi.advanceTimersByTimeAsync(20_000);
    expect(most).toBe(1);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining("coordinator unreachable"));
    errors.mockRestore();
  });
});

import { describe, expect, it } from "vitest";
import { PAUSE_AFTER_FAILURES, PAUSE_MS, ShadowPauses } from "../../src/proxy/pause.ts";

function clocked() {
  let now = 0;
  return { pauses: new ShadowPauses(() => now), advance: (ms: number) => (now += ms) };
}

const fail = (pauses: ShadowPauses, key: string, times: number) => {
  for (let i = 0; i < times; i++) {
    expect(pauses.admit(key)).toBe(true);
    pauses.report(key, false);
  }
};

describe("ShadowPauses", () => {
  it("keeps sending after fewer than five failures in a row", () => {
    const { pauses } = clocked();
    fail(pauses, "s", PAUSE_AFTER_FAILURES - 1);
    expect(pauses.admit("s")).toBe(true);
  });

  it("a reached answer resets the count", () => {
    const { pauses } = clocked();
    fail(pauses, "s", PAUSE_AFTER_FAILURES - 1);
    pauses.report("s", true);
    fail(pauses, "s", PAUSE_AFTER_FAILURES - 1);
    expect(pauses.admit("s")).toBe(true);
  });

  it("pauses after five failures for 10 s, then lets exactly one trial copy through", () => {
    const { pauses, advance } = clocked();
    fail(pauses, "s", PAUSE_AFTER_FAILURES);
    expect(pauses.admit("s")).toBe(false);
    expect(pauses.isPaused("s")).toBe(true);
    advance(PAUSE_MS - 1);
    expect(pauses.admit("s")).toBe(false);
    advance(1);
    expect(pauses.admit("s")).toBe(true);
    expect(pauses.admit("s")).toBe(false);
  });

  it("a failed trial pauses again; a successful one resumes", () => {
    const { pauses, advance } = clocked();
    fail(pauses, "s", PAUSE_AFTER_FAILURES);
    advance(PAUSE_MS);
    expect(pauses.admit("s")).toBe(true);
    pauses.report("s", false);
    expect(pauses.admit("s")).toBe(false);
    advance(PAUSE_MS);
    expect(pauses.admit("s")).toBe(true);
    pauses.report("s", true);
    expect(pauses.admit("s")).toBe(true);
    expect(pauses.admit("s")).toBe(true);
  });

  it("pauses one shadow without touching another", () => {
    const { pauses } = clocked();
    fail(pauses, "dead", PAUSE_AFTER_FAILURES);
    expect(pauses.admit("dead")).toBe(false);
    expect(pauses.admit("alive")).toBe(true);
  });

  it("a trial copy that was admitted but never sent is given back", () => {
    const { pauses, advance } = clocked();
    fail(pauses, "s", PAUSE_AFTER_FAILURES);
    advance(PAUSE_MS);
    expect(pauses.admit("s")).toBe(true);
    expect(pauses.admit("s")).toBe(false);
    pauses.withdraw("s");
    expect(pauses.admit("s")).toBe(true);
  });
});

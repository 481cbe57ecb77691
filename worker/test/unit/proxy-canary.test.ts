import { describe, expect, it } from "vitest";
import { canaryBucket, chooseCanary } from "../../src/proxy/canary.ts";
import { requestBucket } from "../../src/proxy/sampling.ts";
import type { ShadowControls } from "../../src/proxy/selection.ts";

const shadow = (version: string, controls: Partial<ShadowControls> = {}): ShadowControls => ({
  version,
  origin: `http://127.0.0.1:9/${version}`,
  status: "running",
  mirrorPercent: 100,
  mirrorMethods: null,
  canaryPercent: 0,
  canaryKey: null,
  ...controls,
});

const ids = Array.from({ length: 4_000 }, (_, i) => `req-${i}`);
const none = new Headers();

describe("chooseCanary", () => {
  it("hashes 'canary:' + the key with the sampling hash, apart from the mirror sample", () => {
    expect(canaryBucket("user-7")).toBe(requestBucket("canary:user-7"));
    expect(ids.some((id) => canaryBucket(id) !== requestBucket(id))).toBe(true);
  });

  it("answers nothing without a canary share", () => {
    const shadows = [shadow("2.0.0"), shadow("3.0.0", { mirrorPercent: 10 })];
    expect(ids.filter((id) => chooseCanary(shadows, id, none))).toEqual([]);
  });

  it("stacks canaries in deploy order, so each answers its own share and never the same request", () => {
    const shadows = [shadow("2.0.0", { canaryPercent: 10 }), shadow("3.0.0", { canaryPercent: 15.5 })];
    const picked = ids.map((id) => chooseCanary(shadows, id, none)?.version);
    for (const [i, id] of ids.entries()) {
      const bucket = canaryBucket(id);
      expect(picked[i]).toBe(bucket < 1_000 ? "2.0.0" : bucket < 2_550 ? "3.0.0" : undefined);
    }
    expect(picked.filter((v) => v === "3.0.0").length / ids.length).toBeCloseTo(0.155, 1);
  });

  it("keys on the named header, and on the request id when the request lacks it", () => {
    const shadows = [shadow("2.0.0", { canaryPercent: 50, canaryKey: "x-user-id" })];
    const user = new Headers({ "x-user-id": "alice" });
    const alice = new Set(ids.map((id) => chooseCanary(shadows, id, user)?.version));
    expect(alice).toEqual(new Set([canaryBucket("alice") < 5_000 ? "2.0.0" : undefined]));
    const anonymous = ids.filter((id) => chooseCanary(shadows, id, none)).length / ids.length;
    expect(anonymous).toBeCloseTo(0.5, 1);
  });

  it("skips a canary the health probe marks unreachable: main answers its share", () => {
    const shadows = [shadow("2.0.0", { canaryPercent: 50, status: "unreachable" })];
    expect(ids.filter((id) => chooseCanary(shadows, id, none))).toEqual([]);
  });

  it("never lets canaries answer more than half of the requests, whatever the stored shares add up to", () => {
    // 40 + 40, as a rollout raising one canary past another could leave them.
    const shadows = [shadow("2.0.0", { canaryPercent: 40 }), shadow("3.0.0", { canaryPercent: 40 })];
    const picked = ids.map((id) => chooseCanary(shadows, id, none)?.version);
    for (const [i, id] of ids.entries()) {
      const bucket = canaryBucket(id);
      expect(picked[i]).toBe(bucket < 4_000 ? "2.0.0" : bucket < 5_000 ? "3.0.0" : undefined);
    }
    expect(picked.filter((v) => v !== undefined).length / ids.length).toBeCloseTo(0.5, 1);
  });
});

import { describe, expect, it } from "vitest";
import type { ServiceRecord } from "../../src/client.ts";
import { killTarget, shadowsFirst } from "../../src/killing.ts";

const version = (v: string, main: boolean): ServiceRecord => ({
  name: "hello",
  version: v,
  origin: "http://127.0.0.1:1",
  main,
  status: "running",
  statusSince: "2026-11-26T11:30:00.000Z",
  createdAt: "2026-11-26T11:30:00.000Z",
  mirrorPercent: 100,
  mirrorMethods: null,
  stripHeaders: [],
  canaryPercent: 0,
  canaryKey: null,
  canaryWrites: false,
  forwardAccess: false,
});

describe("what kill applies to", () => {
  it("is one version, one name, or everything", () => {
    expect(killTarget({ name: "hello", version: "1.0.0" })).toEqual({
      kind: "version",
      name: "hello",
      version: "1.0.0",
    });
    expect(killTarget({ name: "hello" })).toEqual({ kind: "name", name: "hello" });
    expect(killTarget({ all: true })).toEqual({ kind: "all" });
  });

  it("explains what to give when given nothing, and refuses a name with --all", () => {
    expect(() => killTarget({})).toThrow(/`daeploy-edge kill NAME VERSION`.*`daeploy-edge kill --all`/);
    expect(() => killTarget({ name: "hello", all: true })).toThrow("Give either NAME [VERSION] or --all, not both");
  });
});

describe("kill order", () => {
  it("puts the main after its shadows and keeps the shadows' order", () => {
    const order = shadowsFirst([version("1.0.0", true), version("2.0.0", false), version("3.0.0", false)]);
    expect(order.map((r) => r.version)).toEqual(["2.0.0", "3.0.0", "1.0.0"]);
  });
});

import { describe, expect, it } from "vitest";
import type { ServiceRecord } from "../../src/client.ts";
import { describeTrafficControls, parseMethods, parseOnOff, parsePercent } from "../../src/traffic.ts";

const record = (overrides: Partial<ServiceRecord>): ServiceRecord => ({
  name: "hello",
  version: "2.0.0",
  origin: "http://127.0.0.1:3002",
  main: false,
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
  ...overrides,
});

describe("traffic-control flags", () => {
  it("a percent with or without its sign; anything else names the flag", () => {
    expect(parsePercent("percent", "12.5")).toBe(12.5);
    expect(parsePercent("percent", "25%")).toBe(25);
    expect(parsePercent("percent", "150")).toBe(150);
    expect(parsePercent("percent", undefined)).toBeUndefined();
    expect(() => parsePercent("mirror-percent", "half")).toThrow(
      '--mirror-percent takes a share of requests from 0 to 100, e.g. --mirror-percent 12.5; got "half"',
    );
  });

  it("methods in any case and spacing, once each; `all` is every method", () => {
    expect(parseMethods("methods", "get, Head,GET")).toEqual(["GET", "HEAD"]);
    expect(parseMethods("methods", "ALL")).toBeNull();
    expect(parseMethods("methods", undefined)).toBeUndefined();
  });

  it("refuses what is no HTTP method, naming the flag and the method meant", () => {
    expect(() => parseMethods("methods", "get,gte")).toThrow("--methods: GTE is not an HTTP method; did you mean GET?");
    expect(() => parseMethods("mirror-methods", "FOO")).toThrow(
      "--mirror-methods: FOO is not an HTTP method (RFC 9110 or WebDAV)",
    );
  });

  it("says what a shadow receives, and that a main's controls wait until it is a shadow", () => {
    expect(describeTrafficControls(record({ mirrorPercent: 12.5, mirrorMethods: ["GET", "HEAD"] }))).toBe(
      "Traffic controls of hello 2.0.0: 12.5% of requests, methods GET, HEAD",
    );
    expect(describeTrafficControls(record({ main: true }))).toBe(
      "Traffic controls of hello 2.0.0: 100% of requests, every method (they apply once it is a shadow; main gets everything)",
    );
  });
});

describe("--canary-writes", () => {
  it("takes on or off (yes/no, true/false, any case), and says what to type otherwise", () => {
    expect(["on", "Yes", "TRUE"].map((word) => parseOnOff("canary-writes", word))).toEqual([true, true, true]);
    expect(["off", "no", "False"].map((word) => parseOnOff("canary-writes", word))).toEqual([false, false, false]);
    expect(parseOnOff("canary-writes", undefined)).toBeUndefined();
    expect(() => parseOnOff("canary-writes", "1")).toThrow(
      '--canary-writes takes on or off, e.g. --canary-writes off; got "1"',
    );
  });

  it("is said back beside the canary share when on", () => {
    expect(describeTrafficControls(record({ canaryPercent: 10, canaryWrites: true }))).toBe(
      "Traffic controls of hello 2.0.0: 100% of requests, every method; answers 10% as a canary, picked by the request id (main gets marked copies of its writes too)",
    );
    expect(describeTrafficControls(record({ canaryPercent: 10 }))).toBe(
      "Traffic controls of hello 2.0.0: 100% of requests, every method; answers 10% as a canary, picked by the request id",
    );
  });
});

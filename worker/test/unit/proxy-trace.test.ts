import { describe, expect, it } from "vitest";
import { continueTraceAsShadow, markedTracestate, parseTraceparent } from "../../src/proxy/trace.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe("traceparent", () => {
  it("reads a valid header's trace id and flags", () => {
    expect(parseTraceparent(PARENT)).toEqual({ traceId: TRACE_ID, flags: "01" });
    // A later version may append fields; its first four are read the same way.
    expect(parseTraceparent(`cc-${TRACE_ID}-00f067aa0ba902b7-00-what-comes-next`)).toEqual({
      traceId: TRACE_ID,
      flags: "00",
    });
  });

  it("refuses what the format forbids", () => {
    for (const bad of [
      null,
      "",
      `00-${TRACE_ID}-00f067aa0ba902b7-01-extra`, // version 00 is exactly 55 characters
      `ff-${TRACE_ID}-00f067aa0ba902b7-01`, // version ff is invalid
      `00-${"0".repeat(32)}-00f067aa0ba902b7-01`, // all-zero trace id
      `00-${TRACE_ID}-0000000000000000-01`, // all-zero parent id
      `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`, // hex is lower-case
      `00-${TRACE_ID.slice(1)}-00f067aa0ba902b7-01`,
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
    }
  });
});

describe("a shadow copy's tracestate", () => {
  it("puts daeploy=shadow leftmost and keeps the others in order", () => {
    expect(markedTracestate(null)).toBe("daeploy=shadow");
    expect(markedTracestate("rojo=00f067aa0ba902b7, congo=t61rcWkgMzE")).toBe(
      "daeploy=shadow,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
    );
  });

  it("replaces an earlier daeploy entry rather than adding a second", () => {
    expect(markedTracestate("rojo=1,daeploy=main,congo=2")).toBe("daeploy=shadow,rojo=1,congo=2");
  });

  it("keeps multi-tenant keys, drops empty and malformed members", () => {
    expect(markedTracestate("tenant@vendor=x,, Bad=1,novalue,ok=a b,tab=a\tb,eq=a=b")).toBe(
      "daeploy=shadow,tenant@vendor=x,ok=a b",
    );
  });

  it("holds at most 32 members, dropping from the right", () => {
    const members = Array.from({ length: 32 }, (_, i) => `k${i}=v${i}`);
    const marked = markedTracestate(members.join(",")).split(",");
    expect(marked).toHaveLength(32);
    expect(marked[0]).toBe("daeploy=shadow");
    expect(marked[1]).toBe("k0=v0");
    expect(marked.at(-1)).toBe("k30=v30");
  });
});

describe("continueTraceAsShadow", () => {
  it("keeps the trace id and flags, gives a new parent id, and marks tracestate", () => {
    const headers = continueTraceAsShadow(new Headers({ traceparent: PARENT, tracestate: "rojo=1" }));
    const [version, traceId, parentId, flags] = (headers.get("traceparent") ?? "").split("-");
    expect([version, traceId, flags]).toEqual(["00", TRACE_ID, "01"]);
    expect(parentId).toMatch(/^[0-9a-f]{16}$/);
    expect(parentId).not.toBe("00f067aa0ba902b7");
    expect(headers.get("tracestate")).toBe("daeploy=shadow,rojo=1");
  });

  it("adds nothing to a request without a trace, or with one it cannot read", () => {
    expect([...continueTraceAsShadow(new Headers({ a: "1" })).keys()]).toEqual(["a"]);
    const invalid = continueTraceAsShadow(new Headers({ traceparent: "garbage", tracestate: "rojo=1" }));
    expect(invalid.get("traceparent")).toBe("garbage");
    expect(invalid.get("tracestate")).toBe("rojo=1");
  });
});

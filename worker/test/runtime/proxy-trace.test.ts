import { describe, expect, inject, it } from "vitest";
import { deploy, gateway, seenBy, uniqueName, waitForSeen } from "./proxy-helpers.ts";

// Trace context through the real proxy: what main's and a shadow's origins receive.
const origins = inject("origins");
const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const TRACEPARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;

async function mirrored(headers: Record<string, string>) {
  const name = uniqueName("trace");
  await deploy(name, "1.0.0", origins.v1);
  await deploy(name, "2.0.0", origins.v2);
  const id = `${name}-trace`;
  const response = await gateway(`/services/${name}/hello`, { headers: { "x-request-id": id, ...headers } });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
  const [main] = await seenBy(origins.v1, id);
  const [shadow] = await waitForSeen(origins.v2, id);
  return { main: main?.headers ?? {}, shadow: shadow?.headers ?? {} };
}

describe("trace context on copies", () => {
  it("a shadow's copy joins the client's trace as a new span, marked daeploy=shadow; main's is untouched", async () => {
    const { main, shadow } = await mirrored({ traceparent: TRACEPARENT, tracestate: "congo=t61rcWkgMzE" });
    expect(main.traceparent).toBe(TRACEPARENT);
    expect(main.tracestate).toBe("congo=t61rcWkgMzE");
    expect(shadow.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(shadow.traceparent).not.toBe(TRACEPARENT);
    expect(shadow.tracestate).toBe("daeploy=shadow,congo=t61rcWkgMzE");
  });

  it("a request without traceparent gets none, on main or on the shadow", async () => {
    const { main, shadow } = await mirrored({});
    for (const headers of [main, shadow]) {
      expect(headers.traceparent).toBeUndefined();
      expect(headers.tracestate).toBeUndefined();
    }
  });
});

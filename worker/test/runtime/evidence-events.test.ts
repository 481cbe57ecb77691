import { describe, expect, inject, it } from "vitest";
import { deploy, GATEWAY, uniqueName, withVars } from "./proxy-helpers.ts";

// Analytics Engine does nothing locally, so its binding is stood in for here: the one place a
// stand-in is right. Everything else (proxy, comparison, origins) is real.
const origins = inject("origins");

/** Records what the worker hands to `writeDataPoint`. */
function standInDataset() {
  const points: AnalyticsEngineDataPoint[] = [];
  const dataset: AnalyticsEngineDataset = { writeDataPoint: (point) => void points.push(point ?? {}) };
  return { dataset, points };
}

async function through(name: string, path: string, vars: { EVIDENCE_EVENTS?: AnalyticsEngineDataset }) {
  const { response, settled } = await withVars(
    vars,
    new Request(`${GATEWAY}/services/${name}${path}`, { headers: { "x-request-id": `${name}-${path}` } }),
  );
  expect(response.status).toBe(200);
  await response.arrayBuffer();
  await settled();
}

describe("EVIDENCE_EVENTS data points", () => {
  it("one per copy: service as index; version, outcome, first differing path; main and shadow ms", async () => {
    const name = uniqueName("ae");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2); // answers with its own version: differs at body.version
    await deploy(name, "3.0.0", origins.v3); // answers 503
    await deploy(name, "4.0.0", origins.v1); // main's own origin: the same answer
    const { dataset, points } = standInDataset();
    await through(name, "/items", { EVIDENCE_EVENTS: dataset });
    expect(points).toHaveLength(3);
    const byVersion = Object.fromEntries(points.map((p) => [p.blobs?.[0], p]));
    expect(byVersion["2.0.0"]).toEqual({
      indexes: [name],
      blobs: ["2.0.0", "different", "body.version"],
      doubles: [expect.any(Number), expect.any(Number)],
    });
    expect(byVersion["3.0.0"]?.blobs).toEqual(["3.0.0", "error", expect.any(String)]);
    expect(byVersion["4.0.0"]?.blobs).toEqual(["4.0.0", "same", ""]);
    for (const point of points) {
      const [mainMs, shadowMs] = point.doubles ?? [];
      expect(mainMs).toBeGreaterThan(0);
      expect(shadowMs).toBeGreaterThan(0);
    }
  });

  it("writes nothing for a request of a worker without the binding", async () => {
    const name = uniqueName("ae_unbound");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const { dataset, points } = standInDataset();
    await through(name, "/unbound", {});
    await through(name, "/bound", { EVIDENCE_EVENTS: dataset });
    await through(name, "/unbound-again", { EVIDENCE_EVENTS: undefined });
    // Only the bound request's one copy: the others had no dataset to write to.
    expect(points.map((p) => p.blobs?.slice(0, 2))).toEqual([["2.0.0", "different"]]);
  });
});

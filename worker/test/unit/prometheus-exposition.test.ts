import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { LABEL_MAX_BYTES, type NameMetrics, writeExposition } from "../../src/api/prometheus.ts";
import { LatencyHistogram } from "../../src/evidence/histogram.ts";
import { prometheusTool } from "../support/prometheus-tools.ts";

// The exposition writer checked by Prometheus's own linter, on the awkward cases too.
const promtool = prometheusTool("promtool");

const histogram = (...ms: number[]) => {
  const h = new LatencyHistogram();
  for (const value of ms) h.add(value);
  return h.toJson();
};

const shadow = (version: string, paths: string[]): NameMetrics["shadows"][number] => ({
  version,
  lifetime: {
    requests: {
      mirrored: 12,
      compared: 10,
      same: 7,
      different: 3,
      error: 1,
      notCompared: 1,
      down: 4,
      skipped: 2,
      unrecorded: 0,
      canary: 0,
    },
    errors: { main: 0, shadow: 1 },
    fields: paths.map((path, i) => ({
      path,
      kind: "value",
      count: 3 - i,
      rate: 0.1,
      noiseRate: 0,
      ignored: false,
      counts: true,
    })),
  },
  latencyMain: histogram(0.4, 3, 25, 900, 45_000),
  latencyShadow: histogram(5, 5, 12),
  verdict: "inconclusive",
});

function check(text: string) {
  const run = spawnSync(promtool.path ?? "promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { code: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

describe.skipIf(promtool.skipReason !== undefined)("promtool check metrics", () => {
  it("passes the exposition of several names, odd field paths and latencies past every bucket included", () => {
    const text = writeExposition([
      {
        service: "hello",
        shadows: [shadow("2.0.0", ["body.price", 'body["quote\\"d"]', "body.line\nfeed", "header.x-a\\b"])],
        notifications: { delivered: 3, failed: 1 },
      },
      { service: "shop_api", shadows: [shadow("2.1.0-rc.1", []), shadow("3.0.0", ["status"])] },
    ]);
    expect(check(text)).toEqual({ code: 0, output: "" });
  });

  it("passes an exposition with no names at all", () => {
    expect(check(writeExposition([]))).toEqual({ code: 0, output: "" });
  });

  it("is the real linter: it refuses a broken exposition", () => {
    const broken = writeExposition([{ service: "hello", shadows: [shadow("2.0.0", [])] }]).replace(
      "# TYPE daeploy_copies_total counter\n",
      "",
    );
    expect(check(`${broken}daeploy_copies_total{service="x} 1\n`).code).not.toBe(0);
  });
});

describe("label values", () => {
  /** Each label value of the exposition, unescaped enough to count its bytes. */
  const labelValues = (text: string) =>
    [...text.matchAll(/="((?:[^"\\]|\\.)*)"/g)].map((match) => (match[1] ?? "").replace(/\\(.)/g, "$1"));

  it("are bounded in bytes, and paths that one cap makes equal are one series, summed", () => {
    const long = `body.${"k".repeat(5_000)}`;
    const text = writeExposition([
      { service: "hello", shadows: [shadow("2.0.0", [`${long}a`, `${long}b`, "body.price"])] },
    ]);
    const longest = Math.max(...labelValues(text).map((value) => new TextEncoder().encode(value).length));
    expect(longest).toBeLessThanOrEqual(LABEL_MAX_BYTES);
    const fieldLines = text.split("\n").filter((line) => line.startsWith("daeploy_field_differences_total{"));
    expect(fieldLines).toHaveLength(2);
    // The two long paths counted 3 and 2.
    expect(fieldLines[0]).toMatch(/path="body\.k+…",kind="value"} 5$/);
    expect(fieldLines[1]).toMatch(/path="body\.price",kind="value"} 1$/);
    expect(text.length).toBeLessThan(20_000);
  });
});

// The charts' time axis in a real headless Chromium: the page's own chart code (dashboard/src/charts.ts,
// bundled here as the build bundles it) drawing reports of known shape, so the minutes on the axis are
// known whatever the clock says when the test runs.
import { join } from "node:path";
import chromium from "@sparticuz/chromium";
import { build } from "esbuild";
import { type Browser, type Page, chromium as playwright } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../src/api.ts";

const src = join(import.meta.dirname, "..", "src");
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const bundle = await build({
    stdin: {
      contents: `import "./locale.ts"; import { drawCharts } from "./charts.ts"; Object.assign(window, { drawCharts });`,
      resolveDir: src,
      loader: "ts",
    },
    bundle: true,
    format: "iife",
    write: false,
    logLevel: "warning",
  });
  browser = await playwright.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args,
    env: { ...process.env, LANG: "C" },
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, timezoneId: "Asia/Kolkata" });
  await page.setContent("<!doctype html><html><body></body></html>");
  await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? "" });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** A report over `windowMinutes` ending now, `stepSeconds` a step, with traffic in the `busy` steps before the running one. */
function report(windowMinutes: number, stepSeconds: number, busy: number): Report {
  const stepMs = stepSeconds * 1000;
  const now = Date.now();
  const steps = Math.ceil((windowMinutes * 60_000) / stepMs) + 1;
  const from = Math.floor((now - windowMinutes * 60_000) / stepMs) * stepMs;
  const requests = Array.from({ length: steps }, (_, i) => (i >= steps - 1 - busy && i < steps - 1 ? 100 + i : 0));
  const p99 = requests.map((count) => (count > 0 ? 40 : null));
  return {
    name: "hello",
    main: "1.0.0",
    window: { from: new Date(now - windowMinutes * 60_000).toISOString(), to: new Date(now).toISOString() },
    baseline: { main: "1.0.0", since: new Date(from).toISOString() },
    mainTraffic: {
      requests: 0,
      status: { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 },
      latencyMs: { p50: 0, p95: 0, p99: 0 },
    },
    shadows: [],
    noise: { sampled: 0, routes: [], fields: [] },
    series: {
      from: new Date(from).toISOString(),
      stepSeconds,
      main: { requests, status: { "2xx": requests, "3xx": [], "4xx": [], "5xx": [] }, p99Ms: p99 },
      promotions: [],
      versions: [
        { version: "1.0.0", requests, p99Ms: p99 },
        {
          version: "2.0.0",
          requests,
          compared: requests,
          different: requests.map((count) => count / 10),
          p99Ms: p99,
        },
      ],
    },
  };
}

async function ticksOf(drawn: Report): Promise<string[][]> {
  return page.evaluate(async (data) => {
    document.body.replaceChildren();
    const host = document.createElement("div");
    document.body.append(host);
    (window as unknown as { drawCharts: (host: HTMLElement, report: unknown) => void }).drawCharts(host, data);
    // uPlot lays out its axes just after it is created.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return [...host.querySelectorAll("figure.chart")].map((f) => (f.getAttribute("data-x-ticks") ?? "").split(", "));
  }, drawn);
}

describe("the charts' time axis", () => {
  it("ticks on whole minutes over an hour: no HH:MM twice (a tick every 15 s printed each one four times)", async () => {
    const charts = await ticksOf(report(60, 60, 5));
    expect(charts).toHaveLength(3);
    for (const labels of charts) {
      expect(labels.length, labels.join(", ")).toBeGreaterThanOrEqual(3);
      for (const label of labels) expect(label).toMatch(/^\d\d:\d\d$/);
      expect(new Set(labels).size, labels.join(", ")).toBe(labels.length);
    }
  });

  it("ticks on whole steps over a week, each with its day", async () => {
    for (const labels of await ticksOf(report(7 * 24 * 60, 2_520, 100))) {
      expect(labels.length, labels.join(", ")).toBeGreaterThanOrEqual(3);
      for (const label of labels) expect(label).toMatch(/^\d\d-\d\d \d\d:\d\d$/);
      expect(new Set(labels).size, labels.join(", ")).toBe(labels.length);
    }
  });
});

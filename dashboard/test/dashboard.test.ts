// The dashboard in a real headless Chromium (@sparticuz/chromium driven by playwright-core), against
// a real gateway with real origins and real traffic. One operator's session, step by step.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import chromium from "@sparticuz/chromium";
import { type Browser, type Locator, type Page, chromium as playwright } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { formatCount } from "../../worker/src/evidence/count.ts";
import type { EvidenceReport } from "../../worker/src/evidence/verdict.ts";
import type { Report, RolloutView } from "../src/api.ts";
import { adminApi } from "./admin-api.ts";

const world = inject("dashboardWorld");
const { url: gateway, token } = world.gateway;

const api = adminApi(gateway, token);

/** Real traffic through the proxy; main answers, v2 gets every copy. */
async function sendTraffic(count: number): Promise<void> {
  for (let start = 0; start < count; start += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, count - start) }, async (_, offset) => {
        const response = await fetch(`${gateway}/services/hello/items/${start + offset}`);
        await response.arrayBuffer();
      }),
    );
  }
}

const GATE_MIN_REQUESTS = 20;
/**
 * The gate's alpha in this session's policy: the largest allowed, so a clean shadow's p99 band is
 * bounded after about 310 latencies (about 660 at the default 0.01; docs/evidence.md).
 */
const GATE_ALPHA = 0.2;
/** Enough copies that 2.0.0, once its one differing field is ignored, passes under the anytime-valid judge. */
const PASSING_TRAFFIC = 500;
const ZONE_ID = "Asia/Kolkata";
/** How Chromium names that zone in en-US, as every time on the page shows it. */
const ZONE = "GMT+5:30";
/** Chromium logs every refused fetch; these are the refusals the steps below provoke on purpose. */
const EXPECTED_REFUSALS =
  /Failed to load resource: (the server responded with a status of (401|409|422)|net::ERR_CONNECTION_REFUSED)/;

let browser: Browser;
let page: Page;
const problems: string[] = [];
/**
 * Names a step removes through the API while the page is open. A refresh already under way may still
 * ask for such a name's report: the page shows no verdict for it, and Chromium logs the 404.
 */
const removedOnPurpose = new Set<string>();
const askedForRemoved = (text: string, at: string) =>
  /status of 404/.test(text) && [...removedOnPurpose].some((name) => at.includes(`/api/v1/services/${name}/`));

const shot = async (name: string) =>
  page.screenshot({ path: join(world.screenshotDir, `${name}.png`), fullPage: true });
const card = (version: string) => page.locator(`[data-shadow="${version}"]`);
const tab = (name: string) => page.locator(`.name-tabs [data-tab="${name}"]`);
const rowNames = () =>
  page.locator("#services-table tbody tr").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-service")));
/**
 * Where an element is on the page. Every refresh rebuilds the page's parts, and one asked for in that
 * instant has no box (a clean-clone run read the tabs' as missing): ask again until it has one.
 */
async function boxOf(locator: Locator) {
  let box = await locator.boundingBox();
  for (let tries = 0; box === null && tries < 20; tries++) {
    await page.waitForTimeout(100);
    box = await locator.boundingBox();
  }
  return box;
}
const verdictOf = (version: string) => card(version).locator("[data-verdict]").getAttribute("data-verdict");

/** Waits for hello's shadow card to show `expected`; a failure says what the API's verdict was, and why. */
async function expectVerdict(version: string, expected: string): Promise<void> {
  try {
    await expect.poll(() => verdictOf(version), { timeout: 10_000 }).toBe(expected);
  } catch (error) {
    const report = await api<EvidenceReport>("GET", "/services/hello/report");
    const shadow = report.shadows.find((s) => s.version === version);
    const why = shadow ? `${shadow.verdict}: ${shadow.reasons.join("; ")}` : "no such shadow in the report";
    throw new Error(`${version}'s card did not show ${expected}; the API says ${why}`, { cause: error });
  }
}

beforeAll(async () => {
  await mkdir(world.screenshotDir, { recursive: true });
  // No locale pinned, and LANG=C as on a bare server: Chromium then reports `en-US@posix`, which Intl refuses.
  const env = { ...process.env, LANG: "C" };
  browser = await playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args, env });
  // A zone away from UTC, so the page's times must be local and say which zone they are in.
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, timezoneId: ZONE_ID });
  page.setDefaultTimeout(10_000);
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
    });
  });
  page.on("console", (message) => {
    // The address too: Chromium's line for a refused fetch does not say which one it was.
    const at = message.location().url;
    if (message.type() === "error" && !EXPECTED_REFUSALS.test(message.text()) && !askedForRemoved(message.text(), at)) {
      problems.push(at ? `${message.text()} (${at})` : message.text());
    }
  });
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
}, 30_000);

afterAll(async () => {
  await browser?.close();
});

// A step that failed with a dialog open must not block the next one.
afterEach(async () => {
  if (await page.locator("dialog[open]").count()) await page.keyboard.press("Escape");
});

/** The version of hello that is a shadow right now (which one depends on whether the promotion went through). */
async function currentShadow(): Promise<string> {
  const { services } = await api<{ services: { version: string; main: boolean }[] }>("GET", "/services/hello");
  const shadow = services.find((record) => !record.main);
  if (!shadow) throw new Error("hello has no shadow");
  return shadow.version;
}

describe("the operator's dashboard", () => {
  it("is served at /dashboard/ with strict security headers, and / leads there", async () => {
    const root = await fetch(`${gateway}/`, { redirect: "manual" });
    expect([302, 308]).toContain(root.status);
    expect(root.headers.get("location")).toBe("/dashboard/");

    const response = await page.goto(`${gateway}/`);
    expect(page.url()).toBe(`${gateway}/dashboard/`);
    const headers = response?.headers() ?? {};
    expect(headers["content-security-policy"]).toContain("default-src 'none'");
    expect(headers["content-security-policy"]).toContain("script-src 'self'");
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(headers["content-security-policy"]).not.toContain("unsafe-inline");
    expect(headers["x-frame-options"]).toBe("DENY");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["referrer-policy"]).toBe("no-referrer");

    const script = await fetch(`${gateway}/dashboard/app.js`);
    await script.arrayBuffer();
    expect(script.headers.get("content-type")).toContain("javascript");
    expect(script.headers.get("content-security-policy")).toBe(headers["content-security-policy"]);
    expect(script.headers.get("x-content-type-options")).toBe("nosniff");
    const missing = await fetch(`${gateway}/dashboard/nothing-here.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("keeps the sign-in card off the screen's edges on a phone", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const box = await page.locator(".signin").boundingBox();
      if (!box) throw new Error("no sign-in card");
      expect(box.x).toBeGreaterThanOrEqual(12);
      expect(390 - (box.x + box.width)).toBeGreaterThanOrEqual(12);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it("says so when the API cannot be reached", async () => {
    await page.route("**/api/v1/services", (route) => route.abort("connectionrefused"));
    await page.getByLabel("Admin token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#signin-message").textContent()).toContain("cannot be reached");
    await page.unrouteAll();
  });

  it("refuses a wrong token with a clear message, then signs in with the right one", async () => {
    await page.getByLabel("Admin token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#signin-message").textContent()).toContain("refused this token (401)");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    await page.getByLabel("Admin token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#no-services").waitFor();
    expect(await page.locator("#no-services").textContent()).toContain("No services yet");
    // The token is kept for this tab, never in the address.
    expect(page.url()).not.toContain(token);
  });

  it("shows every service with Daeploy's columns, and an unreachable origin stands out", async () => {
    await api("POST", "/services", { name: "hello", version: "1.0.0", origin: world.origins.v1 });
    await api("POST", "/services", { name: "hello", version: "2.0.0", origin: world.origins.v2 });
    await api("POST", "/services", { name: "ghost", version: "1.0.0", origin: world.origins.dead, check: false });
    // Limits of 20 % at alpha 0.2: the few hundred requests this session sends decide against them. A p99
    // within a second of main's passes: beside the rest of `npm test` on two cores, the runtime's queueing
    // gives either side a tail of hundreds of ms, and this session is about differences, not latency.
    await api("PUT", "/services/hello/policy", {
      gate: {
        minRequests: GATE_MIN_REQUESTS,
        maxDiffRate: 0.2,
        maxErrorRateIncrease: 0.2,
        alpha: GATE_ALPHA,
        minP99DeltaMs: 1_000,
      },
    });
    // The health probe, as the cron fires it, marks ghost's dead origin.
    await fetch(`${gateway}/cdn-cgi/local/scheduled`).then((r) => r.arrayBuffer());

    // Signed in still after a reload: the token stays in sessionStorage.
    await page.reload();
    const table = page.locator("#services-table");
    await table.waitFor();
    expect(await table.locator("thead th").allTextContents()).toEqual([
      "MAIN",
      "NAME",
      "VERSION",
      "STATUS",
      "RUNNING",
      "VERDICT",
    ]);
    const main = table.locator('[data-service="hello 1.0.0"]');
    expect(await main.locator("td").nth(0).textContent()).toContain("main");
    expect(await table.locator('[data-service="hello 2.0.0"] td').nth(0).textContent()).toBe("shadow");
    // Local time, with its zone, as everywhere on the page.
    expect(await main.locator("td").nth(4).textContent()).toMatch(
      new RegExp(`^Running \\(since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${ZONE.replace("+", "\\+")}\\)$`),
    );
    const created = (await api<{ services: { version: string; statusSince: string }[] }>("GET", "/services/hello"))
      .services[0]?.statusSince;
    const local = new Date(Date.parse(created ?? "") + 5.5 * 3600_000).toISOString();
    expect(await main.locator("td").nth(4).textContent()).toContain(`${local.slice(0, 10)} ${local.slice(11, 19)}`);
    const ghost = table.locator('[data-service="ghost 1.0.0"]');
    await expect.poll(() => ghost.locator(".status").textContent(), { timeout: 10_000 }).toBe("unreachable");
    expect(await ghost.locator(".status.unreachable").count()).toBe(1);
    expect(await ghost.locator("td").nth(4).textContent()).toContain("Unreachable (since");
  });

  it("puts a name that needs attention first and opens it: an unreachable origin before a quiet shadow", async () => {
    await page.reload();
    await expect.poll(rowNames).toEqual(["ghost 1.0.0", "hello 1.0.0", "hello 2.0.0"]);
    expect(await page.locator('[data-service="ghost 1.0.0"]').getAttribute("data-attention")).toBe("unreachable");
    await expect.poll(() => tab("ghost").getAttribute("aria-selected")).toBe("true");
    expect(await page.locator("#evidence h2").textContent()).toContain("Evidence for ghost");
    // A name without shadows says so instead of charting nothing.
    await expect.poll(() => page.locator("#no-shadows").textContent()).toContain("ghost has no shadows");
    // No report for hello's shadow has a verdict worth flagging yet: the table shows it as it is.
    expect(await page.locator('[data-service="hello 2.0.0"] [data-verdict]').getAttribute("data-verdict")).toBe(
      "inconclusive",
    );
    await tab("hello").click();
    await expect.poll(() => page.locator("#evidence h2").textContent()).toContain("Evidence for hello");
  });

  it("says how to send traffic to a shadow that has none yet", async () => {
    // The card comes with hello's report, after the heading (which shows "Loading…" until then).
    await expect
      .poll(() => card("2.0.0").textContent(), { timeout: 10_000 })
      .toContain(`curl ${gateway}/services/hello/`);
  });

  it("says about how many more requests would decide, as the API does, and that the bands hold at any look", async () => {
    // Fewer copies than the gate's floor: inconclusive, with the judge's estimate of what would decide.
    await sendTraffic(5);
    const judged = async () => {
      const { shadows } = await api<EvidenceReport>("GET", "/services/hello/report?window=1h");
      const shadow = shadows.find((entry) => entry.version === "2.0.0");
      return shadow && shadow.requests.mirrored >= 5 ? shadow : undefined;
    };
    await expect.poll(judged, { timeout: 15_000, interval: 500 }).toBeDefined();
    const shadow = await judged();
    expect(shadow?.verdict).toBe("inconclusive");
    const more = shadow?.confidence.moreRequests;
    if (typeof more !== "number") throw new Error(`no estimate: ${JSON.stringify(shadow?.confidence)}`);
    // The card lists the API's reasons, the estimate among them in the API's words and number.
    const reasons = card("2.0.0").locator(".reasons li");
    await expect.poll(() => reasons.allTextContents()).toEqual(shadow?.reasons);
    expect((await reasons.allTextContents()).at(-1)).toMatch(
      new RegExp(`^about ${formatCount(more)} more requests at these rates would (pass|fail) it$`),
    );
    const numbers = card("2.0.0").locator("table.numbers");
    expect(await numbers.locator("caption").textContent()).toBe(
      "Bands hold at any look, however often this page refreshes (α 20%).",
    );
    // Both quantiles on both sides carry their band, bounded below at least.
    for (const label of ["p50", "p99"]) {
      const cells = await numbers.locator("tbody tr", { has: page.locator(`th:text-is("${label}")`) }).locator("td");
      for (const cell of await cells.allTextContents())
        expect(cell, label).toMatch(/^[\d.]+ ms \(band [\d.]+–(\?|[\d.]+ ms)\)$/);
    }
  });

  it("shows a failing shadow's verdict, its numbers beside main's, and the differing fields", async () => {
    // Enough for the flip to pass below: a pass needs the p99 bands bounded, not just minRequests.
    await sendTraffic(PASSING_TRAFFIC);
    await expect
      .poll(
        async () => (await api<EvidenceReport>("GET", "/services/hello/report")).shadows[0]?.requests.compared ?? 0,
        { timeout: 15_000, interval: 500 },
      )
      .toBeGreaterThanOrEqual(PASSING_TRAFFIC);
    await expectVerdict("2.0.0", "fail");
    const numbers = card("2.0.0").locator("table.numbers");
    expect(await numbers.locator("thead th").allTextContents()).toEqual(["", "main", "2.0.0"]);
    expect(await numbers.locator("tbody th").allTextContents()).toEqual([
      "mirrored",
      "same",
      "different",
      "error",
      "not compared",
      "down",
      "error rate",
      "errors over main's, same requests",
      "difference rate",
      "p50",
      "p99",
    ]);
    // The difference rate with the band the verdict was decided on.
    expect(await numbers.locator("tbody tr").nth(8).locator("td").nth(1).textContent()).toMatch(
      /^100% \(band \d+(\.\d+)?%–100%\)$/,
    );
    expect(await card("2.0.0").locator(".mirror").textContent()).toBe("Mirroring: 100% of requests, all methods");
    const field = card("2.0.0").locator('tr[data-path="body.version"]');
    const cells = await field.locator("td").allTextContents();
    expect(cells.slice(0, 2)).toEqual(["body.version", "value"]);
    expect(cells[3]).toBe("100%");
    expect(cells[5]).toBe("yes");
    await page.locator("#window").selectOption("15m");
    await expect.poll(() => page.locator("#evidence h2").textContent()).toContain("over the last 15m");
    await shot("dashboard-1280");
  });

  it("puts the failing name first and opens it, its shadow's verdict in the table", async () => {
    await page.reload();
    await expect.poll(rowNames).toEqual(["hello 1.0.0", "hello 2.0.0", "ghost 1.0.0"]);
    expect(await page.locator('[data-service="hello 2.0.0"] [data-verdict]').getAttribute("data-verdict")).toBe("fail");
    expect(await page.locator('[data-service="hello 1.0.0"]').getAttribute("data-attention")).toBe("fail");
    expect(await page.locator('[data-service="hello 1.0.0"] .attention-note').textContent()).toContain(
      "a shadow fails",
    );
    expect(await tab("hello").getAttribute("aria-selected")).toBe("true");
    expect(await page.locator(".name-tabs [role=tab]").allTextContents()).toEqual(["hello ⚠", "ghost ⚠"]);
    await expect.poll(() => verdictOf("2.0.0")).toBe("fail");
    // The failing shadow's card is open; the reload went back to the default window.
    expect(await page.locator('[data-fold="2.0.0"]').getAttribute("open")).not.toBeNull();
    await page.locator("#window").selectOption("15m");
  });

  it("reaches a second name's cards without scrolling through the first's", async () => {
    const tabs = page.locator(".name-tabs");
    const before = await boxOf(tabs);
    await tab("ghost").click();
    await expect.poll(() => page.locator("#evidence h2").textContent()).toContain("Evidence for ghost");
    // The first name's cards are gone, not above or below: the second's start right under the same tabs.
    expect(await page.locator("[data-shadow]").count()).toBe(0);
    expect(before).not.toBeNull();
    expect((await boxOf(tabs))?.y).toBe(before?.y);
    const heading = await boxOf(page.locator("#evidence h2"));
    expect((heading?.y ?? Number.POSITIVE_INFINITY) - (before?.y ?? 0)).toBeLessThan(120);
    await tab("hello").click();
    await card("2.0.0").waitFor();
  });

  it("flips the verdict when a field is ignored, and back", async () => {
    const ignore = page.getByLabel("Ignore body.version");
    await ignore.check();
    await expectVerdict("2.0.0", "pass");
    expect((await api<{ ignore: string[] }>("GET", "/services/hello/policy")).ignore).toEqual(["body.version"]);
    expect(await page.getByLabel("Ignore body.version").isChecked()).toBe(true);

    await page.getByLabel("Ignore body.version").uncheck();
    await expectVerdict("2.0.0", "fail");
    expect((await api<{ ignore: string[] }>("GET", "/services/hello/policy")).ignore).toEqual([]);
  });

  it("shows a sampled exchange, main's body beside the shadow's, with the differing path marked", async () => {
    await card("2.0.0").locator('tr[data-path="body.version"]').getByRole("button", { name: "Samples" }).click();
    const viewer = page.locator("#viewer");
    await viewer.locator(".sample").waitFor();
    expect(await viewer.locator(".request").textContent()).toMatch(/^GET \/services\/hello\/items\/\d+/);
    // The same time format as the table and the charts: local, with the zone.
    expect(await viewer.locator(".request time").textContent()).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${ZONE.replace("+", "\\+")}$`),
    );
    const marked = viewer.locator('.line.diff[data-path="body.version"]');
    expect(await marked.allTextContents()).toEqual(['  "version": "1.0.0",\n', '  "version": "2.0.0",\n']);
    // The fields that are the same are not marked.
    expect(await viewer.locator('.line.diff[data-path="body.method"]').count()).toBe(0);
    await shot("samples");
  });

  it("fits a 390 px wide phone without horizontal scrolling", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    // With a shadow's numbers, its fields and the sample viewer (main beside shadow) open.
    await page.locator("#viewer .sample").waitFor();
    await card("2.0.0").locator("table.numbers").waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // The fields table's last columns (counts, ignore) are on the screen, not cut off inside a scroller.
    const field = card("2.0.0").locator('tr[data-path="body.version"]');
    for (const label of ["counts", "ignore"]) {
      const cell = await field.locator(`td[data-label="${label}"]`).boundingBox();
      if (!cell) throw new Error(`the ${label} cell is not shown at 390 px`);
      expect(cell.x + cell.width, label).toBeLessThanOrEqual(390);
    }
    expect(await field.locator('td[data-label="counts"]').textContent()).toBe("yes");
    await shot("dashboard-390");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("keeps what is open across refreshes", async () => {
    await card("2.0.0").getByRole("button", { name: "Samples", exact: true }).first().click();
    await page.locator("#viewer h2").waitFor();
    const focused = card("2.0.0").getByRole("button", { name: "Force the promotion…" });
    await focused.focus();
    // Wait for the next refresh of the page (every 5 s) to come back.
    await page.waitForResponse((response) => response.url().includes("/report?window=15m"), { timeout: 8_000 });
    await page.waitForTimeout(200);
    expect(await page.locator("#viewer h2").textContent()).toContain("Samples of 2.0.0");
    expect(await page.locator("#window").inputValue()).toBe("15m");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Force the promotion…");
    await page.getByRole("button", { name: "Close samples" }).click();
  });

  it("draws the three charts from complete minutes only, with units on every axis and main on top", async () => {
    const seriesAnswer = page.waitForResponse((response) => /\/report\?window=1h&series=true$/.test(response.url()));
    // A new window reloads the report at once.
    await page.locator("#window").selectOption("1h");
    const report = (await (await seriesAnswer).json()) as Report;
    // The traffic sent above is in the series: main's and the shadow's requests, and the shadow's differences.
    const of = (version: string) => report.series?.versions.find((entry) => entry.version === version);
    const total = (values: number[] | undefined) => (values ?? []).reduce((sum, value) => sum + value, 0);
    expect(total(of("1.0.0")?.requests)).toBeGreaterThan(0);
    expect(total(of("2.0.0")?.different)).toBeGreaterThan(0);
    await page.locator("#charts canvas").first().waitFor({ timeout: 8_000 });
    const figures = page.locator("#charts figure.chart");
    expect(await figures.locator("figcaption").allTextContents()).toEqual([
      "Requests per minute",
      "Difference rate",
      "p99 latency",
    ]);
    expect(await figures.locator("canvas").count()).toBe(3);
    expect(await page.locator("#no-series").count()).toBe(0);

    // Units on both axes of every chart, the time axis in local time with the zone.
    const units = await figures.evaluateAll((all) =>
      all.map((figure) => [figure.getAttribute("data-y-unit"), figure.getAttribute("data-x-unit")]),
    );
    expect(units).toEqual([
      ["requests/min", `local time (${ZONE})`],
      ["% of compared", `local time (${ZONE})`],
      ["ms", `local time (${ZONE})`],
    ]);
    expect(await figures.first().getAttribute("aria-label")).toContain(`in requests/min, against local time (${ZONE})`);

    // No partial minute: the last point drawn is the last minute that has ended inside the report's window.
    const windowTo = Date.parse(report.window.to);
    for (const end of await figures.evaluateAll((all) => all.map((f) => f.getAttribute("data-last-step-end")))) {
      const lastEnd = Date.parse(end ?? "");
      expect(lastEnd).toBeLessThanOrEqual(windowTo);
      expect(windowTo - lastEnd).toBeLessThan(60_000);
      expect(lastEnd % 60_000).toBe(0);
    }

    // The charts open on the minutes with traffic (this session's few), not on an hour of zero line.
    for (const start of await figures.evaluateAll((all) => all.map((f) => f.getAttribute("data-first-step-start")))) {
      expect(windowTo - Date.parse(start ?? "")).toBeLessThan(15 * 60_000);
    }

    // Main is in the requests and latency charts, last in the legend: drawn after (on top of) the shadows.
    for (const index of [0, 2]) {
      const labels = await figures.nth(index).locator(".u-legend .u-series .u-label").allTextContents();
      expect(labels.at(-1)).toBe("1.0.0 (main)");
      expect(labels).toContain("2.0.0");
    }
    await shot("charts");
    await page.locator("#window").selectOption("15m");
  });

  it("when the gate refuses a promotion the page did not expect to fail, shows the gateway's reasons once", async () => {
    // The page's copy of the evidence says inconclusive (as it would have a moment before the
    // evidence tipped); the gateway's gate, reading it afresh, says fail.
    await page.route("**/report?window=15m&series=true", async (route) => {
      const report = (await (await route.fetch()).json()) as Report;
      for (const shadow of report.shadows) Object.assign(shadow, { verdict: "inconclusive", reasons: ["stale"] });
      await route.fulfill({ json: report });
    });
    await expect.poll(() => verdictOf("2.0.0"), { timeout: 10_000 }).toBe("inconclusive");
    await card("2.0.0").getByRole("button", { name: "Promote…" }).click();
    const dialog = page.locator("dialog[open]");
    await dialog.getByRole("button", { name: "Promote 2.0.0" }).click();
    const force = dialog.getByRole("button", { name: "Force the promotion of 2.0.0" });
    await force.waitFor();
    expect(await force.isDisabled()).toBe(true);
    expect(await dialog.getByRole("button", { name: /^Promote/ }).count()).toBe(0);
    // The stale reasons gave way to the gateway's, listed once.
    const { shadows } = await api<EvidenceReport>("GET", "/services/hello/report?window=1h");
    const reasons = shadows.find((shadow) => shadow.version === "2.0.0")?.reasons ?? [];
    expect(await dialog.locator("li").allTextContents()).toEqual(reasons);
    expect(await dialog.textContent()).not.toContain("stale");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await page.unroute("**/report?window=15m&series=true");
    await expectVerdict("2.0.0", "fail");
  });

  it("offers no plain Promote over a failing verdict: only forcing, behind a confirmation, reasons shown once", async () => {
    // The card's own button says what promoting a failing shadow is.
    expect(await card("2.0.0").getByRole("button", { name: "Promote…" }).count()).toBe(0);
    await card("2.0.0").getByRole("button", { name: "Force the promotion…" }).click();
    const dialog = page.locator("dialog[open]");
    expect(await dialog.locator(".gate .badge").textContent()).toBe("fail");
    expect(await dialog.getByRole("button", { name: /^Promote/ }).count()).toBe(0);
    const force = dialog.getByRole("button", { name: "Force the promotion of 2.0.0" });
    expect(await force.isDisabled()).toBe(true);

    // Each of the gate's reasons appears once in the dialog.
    const { shadows } = await api<EvidenceReport>("GET", "/services/hello/report?window=15m");
    const reasons = shadows.find((shadow) => shadow.version === "2.0.0")?.reasons ?? [];
    expect(reasons.length).toBeGreaterThan(0);
    const text = (await dialog.textContent()) ?? "";
    for (const reason of reasons) expect(text.split(reason).length - 1, reason).toBe(1);
    expect(await dialog.locator("li").count()).toBe(reasons.length);
    expect((await api<{ services: { version: string; main: boolean }[] }>("GET", "/services/hello")).services).toEqual(
      expect.arrayContaining([expect.objectContaining({ version: "1.0.0", main: true })]),
    );
    await shot("promote-refused");

    await dialog.getByLabel(/want 2.0.0 to take main's traffic anyway/).check();
    await force.click();
    await page.locator("dialog[open]").waitFor({ state: "detached" });
    await expect.poll(() => page.locator("#notice").textContent()).toContain("hello 2.0.0 is now main.");
    expect(await page.locator("#notice").textContent()).toContain("(promotion forced)");
    await expect.poll(() => page.locator('[data-service="hello 2.0.0"] td').nth(0).textContent()).toContain("main");
  });

  it("marks the promotion on the charts, and main's line goes on from main's own traffic", async () => {
    // Traffic against the new main; the old one is now its shadow.
    await sendTraffic(20);
    const seriesOf = async () => {
      const answer = await page.waitForResponse((r) => /\/report\?window=15m&series=true$/.test(r.url()), {
        timeout: 8_000,
      });
      return (await answer.json()) as Report;
    };
    let report = await seriesOf();
    const total = (values: number[] | undefined) => (values ?? []).reduce((sum, value) => sum + value, 0);
    // Main's series counts every request main served, before and after the promotion.
    while (total(report.series?.main.requests) < 20) report = await seriesOf();
    const [promotion] = report.series?.promotions ?? [];
    expect(promotion?.main).toBe("2.0.0");
    expect(report.baseline).toEqual({ main: "2.0.0", since: promotion?.at });

    // Said in words, in the page's one time format, and drawn on every chart.
    const since = await page.locator("#baseline").textContent();
    expect(since).toMatch(
      new RegExp(
        `^Shadows compared against main 2\\.0\\.0 since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${ZONE.replace("+", "\\+")};`,
      ),
    );
    await expect.poll(() => page.locator("#promotions").textContent()).toContain("2.0.0 became main at");
    const marks = await page
      .locator("#charts figure.chart")
      .evaluateAll((all) => all.map((figure) => figure.getAttribute("data-promotions")));
    expect(marks.length).toBeGreaterThan(0);
    for (const mark of marks) expect(mark).toBe(`${promotion?.at} 2.0.0`);
    // Main's line is in the requests and latency charts, under the new main's name.
    const requests = page.locator('#charts figure[data-chart="requests"]');
    expect((await requests.locator(".u-legend .u-series .u-label").allTextContents()).at(-1)).toBe("2.0.0 (main)");
    await shot("charts-promoted");
  });

  it("changes a shadow's mirror percent", async () => {
    const shadow = await currentShadow();
    await card(shadow).getByRole("button", { name: "Traffic…" }).click();
    const dialog = page.locator("dialog[open]");
    await dialog.getByLabel(/Share of requests/).fill("50");
    await dialog.getByLabel(/Methods copied/).fill("get, not a method");
    await dialog.getByRole("button", { name: "Save" }).click();
    // The API's refusal, naming the field, and nothing changed.
    await expect.poll(() => dialog.locator(".message").textContent()).toMatch(/^422 \w+: .*mirrorMethods/);
    await dialog.getByLabel(/Methods copied/).fill("get, head");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(() => card(shadow).locator(".mirror").textContent())
      .toBe("Mirroring: 50% of requests, GET, HEAD");
  });

  it("shows a running rollout: the canary share in the table, its steps and time left, and aborts it", async () => {
    const shadow = await currentShadow();
    // The shadow may be failing by now (the old main answers its own version): the gate would refuse it, so force.
    const body = { steps: [5, 25, 50], stepMinutes: 10, promote: false, force: true };
    expect((await api<{ state: string }>("POST", `/services/hello/${shadow}/rollout`, body)).state).toBe("running");
    const row = page.locator(`[data-service="hello ${shadow}"]`);
    await expect.poll(() => row.locator("[data-canary]").getAttribute("data-canary"), { timeout: 10_000 }).toBe("5");
    expect(await row.locator("[data-canary]").textContent()).toBe(" canary 5 %");
    const panel = page.locator("#rollout");
    expect(await panel.locator("h3").textContent()).toBe(`Rollout of ${shadow}: canary 5 %`);
    // The running step shows its verdict so far, as the API judges it for the cron's next look, and why.
    const soFar = async () => {
      const { current } = await api<RolloutView>("GET", "/services/hello/rollout");
      const verdict = current?.verdict ?? "no verdict";
      const expected = [
        `5 % · running, ${verdict} so far`,
        `This step ${verdict} so far: ${current?.reasons.join("; ")}.`,
      ];
      const shown = [
        await panel.locator('[data-state="running"]').textContent(),
        await panel.locator(".rollout-current").textContent(),
      ];
      return shown.join("\n") === expected.join("\n")
        ? "as the API says"
        : `${shown.join("\n")}\n≠ ${expected.join("\n")}`;
    };
    await expect.poll(soFar, { timeout: 12_000 }).toBe("as the API says");
    // One verdict per version: the table row and the card say what the rollout panel says of the step,
    // whatever the window's verdict. Here the window's is made to say otherwise (they differ whenever
    // old evidence is outside the step), and the page must still show the step's.
    const step = (await api<RolloutView>("GET", "/services/hello/rollout")).current?.verdict;
    if (!step) throw new Error("the running step has no verdict");
    const other = step === "pass" ? "fail" : "pass";
    await page.route("**/services/hello/report?window=15m*", async (route) => {
      const report = (await (await route.fetch()).json()) as Report;
      for (const entry of report.shadows) Object.assign(entry, { verdict: other, reasons: [`the window's ${other}`] });
      await route.fulfill({ json: report });
    });
    try {
      await page.waitForResponse((response) => response.url().includes("/services/hello/report?window=15m"));
      await page.waitForTimeout(200);
      expect(await row.locator("[data-verdict]").getAttribute("data-verdict")).toBe(step);
      expect(await verdictOf(shadow)).toBe(step);
      expect(await card(shadow).locator(".reasons").textContent()).not.toContain(`the window's ${other}`);
    } finally {
      await page.unroute("**/services/hello/report?window=15m*");
    }
    expect(await panel.locator("[data-step]").allTextContents()).toEqual([
      expect.stringMatching(/^5 % · running, (pass|fail|inconclusive) so far$/),
      "25 % · waiting",
      "50 % · waiting",
    ]);
    expect(await panel.locator(".rollout-progress").textContent()).toMatch(
      /^Step 1 of 3, (10|9) min left in this step\./,
    );
    // The name is among those that need attention (a failing shadow ranks first, then a rollout).
    const attention = await page.locator('tr.main[data-service^="hello "]').getAttribute("data-attention");
    expect(["fail", "rollout"]).toContain(attention);
    await shot("rollout");

    page.once("dialog", (dialog) => void dialog.dismiss());
    await panel.getByRole("button", { name: "Abort rollout" }).click();
    expect((await api<{ state: string }>("GET", "/services/hello/rollout")).state).toBe("running");
    page.once("dialog", (dialog) => void dialog.accept());
    await panel.getByRole("button", { name: "Abort rollout" }).click();
    await panel.waitFor({ state: "detached" });
    expect(await page.locator("#notice").textContent()).toBe(
      `Rollout of hello ${shadow} aborted; its canary share is back to 0 %.`,
    );
    expect(await row.locator("[data-canary]").count()).toBe(0);
  });

  it("keeps the 'a rollout is running' note clear of the name's link, on a phone and on a desktop", async () => {
    // A long name of its own, with no evidence, so the row's note is the rollout's (hello's may be a failing shadow's).
    const name = "storefront_checkout_api";
    await api("POST", "/services", { name, version: "1.0.0", origin: world.origins.v1 });
    await api("POST", "/services", { name, version: "2.0.0", origin: world.origins.v2 });
    await api("POST", `/services/${name}/2.0.0/rollout`, { steps: [5, 25], stepMinutes: 10 });
    try {
      const row = page.locator(`[data-service="${name} 1.0.0"]`);
      await expect.poll(() => row.getAttribute("data-attention"), { timeout: 10_000 }).toBe("rollout");
      for (const width of [390, 1280]) {
        await page.setViewportSize({ width, height: 900 });
        const link = await row.getByRole("button", { name }).boundingBox();
        const note = await row.locator(".attention-note").boundingBox();
        if (!link || !note) throw new Error(`the name's link or its note is not shown at ${width} px`);
        expect(await row.locator(".attention-note").textContent()).toBe("⚠ a rollout is running");
        const apart =
          note.x >= link.x + link.width ||
          link.x >= note.x + note.width ||
          note.y >= link.y + link.height ||
          link.y >= note.y + note.height;
        expect(apart, `at ${width} px: link ${JSON.stringify(link)}, note ${JSON.stringify(note)}`).toBe(true);
      }
      // A rollout running as it should is marked in the accent blue, not in a failure's red.
      const colours = await row.evaluate((tr) => ({
        note: getComputedStyle(tr.querySelector(".attention-note") as Element).color,
        edge: getComputedStyle(tr.querySelector("td") as Element).borderLeftColor,
      }));
      expect(colours).toEqual({ note: "rgb(31, 95, 191)", edge: "rgb(31, 95, 191)" });
      // Its charts: nothing to draw yet, said in words on each; the step's start marked with its share.
      await tab(name).click();
      await expect.poll(() => page.locator("#evidence h2").textContent()).toContain(`Evidence for ${name}`);
      const figures = page.locator("#charts figure.chart");
      await expect.poll(() => figures.count(), { timeout: 10_000 }).toBe(3);
      expect(await figures.locator(".chart-empty").allTextContents()).toEqual([
        "No requests in the complete minutes yet.",
        "No compared requests in the complete minutes yet: no difference rate to draw.",
        "No latency measured in the complete minutes yet.",
      ]);
      expect(await figures.first().getAttribute("data-rollout-steps")).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z 5$/);
      expect(await page.locator("#rollout-steps-note").textContent()).toMatch(/canary 5 % from /);
      await tab("hello").click();
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
      removedOnPurpose.add(name);
      await api("DELETE", `/services/${name}`);
    }
  });

  it("kills a shadow after a confirmation", async () => {
    const shadow = await currentShadow();
    await card(shadow).getByRole("button", { name: "Kill…" }).click();
    const dialog = page.locator("dialog[open]");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(await page.locator(`[data-service="hello ${shadow}"]`).count()).toBe(1);

    await card(shadow).getByRole("button", { name: "Kill…" }).click();
    await page
      .locator("dialog[open]")
      .getByRole("button", { name: `Kill ${shadow}` })
      .click();
    await page.locator(`[data-service="hello ${shadow}"]`).waitFor({ state: "detached" });
    expect(await page.locator("#notice").textContent()).toBe(`Service hello ${shadow} killed.`);
    // With no shadows left, the charts say so instead of drawing nothing.
    await expect.poll(() => page.locator("#no-shadows").textContent()).toContain("hello has no shadows");
    expect((await api<{ services: unknown[] }>("GET", "/services/hello")).services).toHaveLength(1);
    // Main's own series is still drawn: requests and latency, with main's line, and no difference chart.
    await sendTraffic(10);
    await expect
      .poll(() =>
        page.locator("#charts figure.chart").evaluateAll((all) => all.map((f) => f.getAttribute("data-chart"))),
      )
      .toEqual(["requests", "p99"]);
    const labels = await page
      .locator('#charts figure[data-chart="requests"] .u-legend .u-series .u-label')
      .allTextContents();
    expect(labels.at(-1)).toBe("2.0.0 (main)");
  });

  it("signs out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Admin token").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it("logged no console errors and no CSP violations", async () => {
    // Joined, so that a failure's one line names them.
    expect(problems.join("\n")).toBe("");
    // And the listener does catch one: an inline style attribute is refused and reported.
    await page.evaluate(() => document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>'));
    await expect.poll(() => problems.join("\n")).toContain("CSP violation: style-src-attr");
  });
});

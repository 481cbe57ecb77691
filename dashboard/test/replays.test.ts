// Replays on the dashboard, in a real headless Chromium against a real gateway: a name's captured
// traffic replayed to a version that answers differently, listed beside the rollout with its progress
// and verdict, and a running replay stopped from the page.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import chromium from "@sparticuz/chromium";
import { type Browser, type Page, chromium as playwright } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ReplayView } from "../src/api.ts";
import { adminApi } from "./admin-api.ts";

const world = inject("dashboardWorld");
const { url: gateway, token } = world.gateway;
const NAME = "replayed";
const CAPTURED = 30;
const api = adminApi(gateway, token);

/** Chromium logs every refused fetch: the page's first look without a token is a 401. */
const EXPECTED_REFUSALS = /Failed to load resource: the server responded with a status of 401/;

let browser: Browser;
let page: Page;
const problems: string[] = [];
let finished: ReplayView;
let running: ReplayView;

const item = (id: string) => page.locator(`#replays [data-replay="${id}"]`);
const replayOf = async (id: string) =>
  (await api<{ replays: ReplayView[] }>("GET", `/services/${NAME}/replays`)).replays.find((r) => r.id === id);

async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  for (let tries = 0; tries < 60; tries++) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  await mkdir(world.screenshotDir, { recursive: true });
  await api("DELETE", `/services/${NAME}`).catch(() => undefined);
  await api("POST", "/services", { name: NAME, version: "1.0.0", origin: world.origins.v1 });
  await api("PUT", `/services/${NAME}/policy`, { capture: { percent: 100 }, gate: { minRequests: 5 } });
  const from = new Date(Date.now() - 1_000).toISOString();
  for (let i = 0; i < CAPTURED; i++) await (await fetch(`${gateway}/services/${NAME}/items/${i}?q=${i}`)).arrayBuffer();
  // No live copies: v2 (which names its own version in every body) sees only the replays.
  await api("POST", "/services", { name: NAME, version: "2.0.0", origin: world.origins.v2, mirrorPercent: 0 });
  await until("the captures", async () => {
    const { total } = await api<{ total: { requests: number } }>("GET", `/services/${NAME}/captures`);
    return total.requests >= CAPTURED ? total : undefined;
  });
  const first = await api<ReplayView>("POST", `/services/${NAME}/2.0.0/replays`, { from, rate: 100 });
  finished = await until("the first replay to finish", async () => {
    const replay = await replayOf(first.id);
    return replay?.state === "done" ? replay : undefined;
  });
  // One request a second: still running while the page looks at it.
  running = await api<ReplayView>("POST", `/services/${NAME}/2.0.0/replays`, { from, rate: 1 });

  browser = await playwright.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args,
    env: { ...process.env, LANG: "C" },
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(10_000);
  page.on("console", (message) => {
    if (message.type() === "error" && !EXPECTED_REFUSALS.test(message.text())) problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  await page.goto(`${gateway}/dashboard/`);
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator(`.name-tabs [data-tab="${NAME}"]`).click();
  await page.locator("#replays").waitFor();
}, 90_000);

afterAll(async () => {
  await api("DELETE", `/services/${NAME}`).catch(() => undefined);
  await browser?.close();
});

describe("replays beside the rollout", () => {
  it("lists the name's replays newest first", async () => {
    expect(await page.locator("#replays h3").textContent()).toBe("Replays of captured traffic");
    expect(
      await page
        .locator("#replays [data-replay]")
        .evaluateAll((all) => all.map((li) => li.getAttribute("data-replay"))),
    ).toEqual([running.id, finished.id]);
  });

  it("shows a finished replay's progress and its verdict, as the API gives them", async () => {
    const done = item(finished.id);
    expect(await done.getAttribute("data-state")).toBe("done");
    expect(finished).toMatchObject({ sent: CAPTURED, total: CAPTURED, verdict: { outcome: "fail" } });
    expect(await done.locator("progress").evaluate((bar: HTMLProgressElement) => [bar.value, bar.max])).toEqual([
      CAPTURED,
      CAPTURED,
    ]);
    expect(await done.locator(".progress-text").textContent()).toBe(
      `${CAPTURED} of ${CAPTURED} sent (100 %) at 100/s, done`,
    );
    expect(await done.locator(".badge").textContent()).toBe("fail");
    expect(await done.locator(".reasons li").allTextContents()).toEqual(finished.verdict.reasons);
    expect(finished.verdict.reasons.join(" ")).toContain("body.version");
    // A finished replay has nothing to stop.
    expect(await done.getByRole("button", { name: "Stop" }).count()).toBe(0);
  });

  it("shows a running replay's progress, and stops it", async () => {
    const now = item(running.id);
    expect(await now.getAttribute("data-state")).toBe("running");
    expect(await now.locator(".progress-text").textContent()).toMatch(
      new RegExp(`^\\d+ of ${CAPTURED} sent \\(\\d+ %\\) at 1/s, running`),
    );
    const [sent, total] = await now.locator("progress").evaluate((bar: HTMLProgressElement) => [bar.value, bar.max]);
    expect(total).toBe(CAPTURED);
    expect(sent).toBeLessThan(CAPTURED);

    await page.locator("#replays").screenshot({ path: join(world.screenshotDir, "replays.png") });
    await now.getByRole("button", { name: "Stop" }).click();
    await expect
      .poll(() => page.locator("#notice").textContent())
      .toBe(`Replay ${running.id} to ${NAME} 2.0.0 stopped.`);
    expect((await replayOf(running.id))?.state).toBe("stopped");
    await expect.poll(() => item(running.id).getAttribute("data-state")).toBe("stopped");
    expect(await item(running.id).getByRole("button", { name: "Stop" }).count()).toBe(0);
  });

  it("logged no console errors", () => {
    expect(problems.join("\n")).toBe("");
  });
});

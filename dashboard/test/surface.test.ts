// The operator surface in a real headless Chromium: a browser language Intl refuses, a proxied
// service's service worker, the read token, Cloudflare Access and the history panel.
import chromium from "@sparticuz/chromium";
import { type Browser, type BrowserContext, type Page, chromium as playwright } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { adminApi } from "./admin-api.ts";

const world = inject("dashboardWorld");
const { url: gateway, token, readToken } = world.gateway;
const NAME = "surface";

const api = adminApi(gateway, token);

let browser: Browser;
const contexts: BrowserContext[] = [];
const problems: string[] = [];
/** Chromium logs refused fetches; the service worker registration below is refused on purpose. */
const EXPECTED =
  /Failed to load resource: the server responded with a status of (401|404)|The path of the provided scope \('\/'\) is not under the max scope allowed/;

async function newPage(options: Parameters<Browser["newContext"]>[0] = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on("console", (message) => {
    if (message.type() === "error" && !EXPECTED.test(message.text())) problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  return page;
}

/** Other files' names may need attention more and open first: choose this file's name, and its shadow's card. */
async function openSurface(page: Page) {
  await page.locator(`.name-tabs [data-tab="${NAME}"]`).click();
  const card = page.locator(`[data-shadow="2.0.0"]`);
  await card.waitFor();
  // A lone shadow's card starts open; what follows looks inside it.
  expect(await page.locator('[data-fold="2.0.0"]').getAttribute("open")).not.toBeNull();
  return card;
}

beforeAll(async () => {
  // No locale pinned, and LANG=C as on a bare server: Chromium then reports `en-US@posix`.
  const env = { ...process.env, LANG: "C" };
  // Service workers need their own process, and their scope rules are web security: keep both on here.
  const args = chromium.args.filter((arg) => arg !== "--single-process" && arg !== "--disable-web-security");
  browser = await playwright.launch({ executablePath: await chromium.executablePath(), args, env });
  await api("DELETE", `/services/${NAME}`).catch(() => undefined);
  await api("POST", "/services", { name: NAME, version: "1.0.0", origin: world.origins.v1 });
  await api("POST", "/services", { name: NAME, version: "2.0.0", origin: world.origins.v2 });
}, 30_000);

afterAll(async () => {
  await api("DELETE", `/services/${NAME}`).catch(() => undefined);
  for (const context of contexts) await context.close();
  await browser?.close();
  expect(problems, JSON.stringify(problems)).toEqual([]);
});

describe("the dashboard under a browser language Intl refuses", () => {
  it("renders: Chromium reports en-US@posix, and the page still signs in and shows the services", async () => {
    const page = await newPage();
    expect(await page.evaluate(() => navigator.language)).toBe("en-US@posix");
    expect(() => new Intl.NumberFormat("en-US@posix")).toThrow(RangeError);
    await page.goto(`${gateway}/dashboard/`);
    await page.getByLabel("Admin token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await openSurface(page);
    expect(problems).toEqual([]);
  });
});

describe("a proxied service's service worker", () => {
  it("cannot claim a scope beyond its own path, so never /dashboard/", async () => {
    const page = await newPage();
    await page.goto(`${gateway}/services/${NAME}/page`);
    const results = await page.evaluate(async (name) => {
      const script = `/services/${name}/sw.js`;
      const wide = await navigator.serviceWorker.register(script, { scope: "/" }).then(
        (registration) => `registered ${registration.scope}`,
        (error: Error) => `refused: ${error.name}`,
      );
      const own = await navigator.serviceWorker.register(script);
      return { wide, own: own.scope };
    }, NAME);
    // The origin sends Service-Worker-Allowed: / (see the workers test); the gateway took it away.
    expect(results.wide).toBe("refused: SecurityError");
    expect(results.own).toBe(`${gateway}/services/${NAME}/`);

    await page.goto(`${gateway}/dashboard/`);
    const controlled = await page.evaluate(async () => ({
      registration: (await navigator.serviceWorker.getRegistration("/dashboard/"))?.scope ?? null,
      controller: navigator.serviceWorker.controller?.scriptURL ?? null,
    }));
    expect(controlled).toEqual({ registration: null, controller: null });
  });
});

describe("read-only mode", () => {
  it("signed in with the read token, says so and shows no Promote, Traffic, Kill, ignore or rule control", async () => {
    // Traffic first, so that the card has a differing field's row (body.version) whose controls must be hidden.
    for (let i = 0; i < 8; i++) await (await fetch(`${gateway}/services/${NAME}/items/${i}`)).arrayBuffer();
    const page = await newPage();
    await page.goto(`${gateway}/dashboard/`);
    await page.getByLabel("Admin token").fill(readToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    const card = await openSurface(page);
    await expect.poll(() => page.locator("#session").textContent()).toContain("Read-only");
    for (const label of ["Promote…", "Traffic…", "Kill…"]) {
      expect(await card.getByRole("button", { name: label }).isVisible(), label).toBe(false);
    }
    // What only reads stays: the samples.
    expect(await card.locator('[data-focus-key="all-samples 2.0.0"]').isVisible()).toBe(true);
    const field = card.locator('tr[data-path="body.version"]');
    await field.waitFor({ timeout: 15_000 });
    expect(await page.locator('input[type="checkbox"]:visible').count()).toBe(0);
    expect(await field.getByRole("button", { name: "Rule for body.version" }).isVisible()).toBe(false);
    // What the rule is stays readable.
    expect(await field.locator('td[data-label="rule"] span').textContent()).toBe("exact");
  });
});

describe("Cloudflare Access", () => {
  let page: Page;

  it("signs the dashboard in with no token, as the user Access names", async () => {
    page = await newPage({ extraHTTPHeaders: { "cf-access-jwt-assertion": world.access.assertion } });
    await page.goto(`${gateway}/dashboard/`);
    await openSurface(page);
    expect(await page.getByLabel("Admin token").count()).toBe(0);
    expect(await page.locator("#session").textContent()).toBe(
      `Signed in as ${world.access.email} through Cloudflare Access`,
    );
    expect(await page.locator('[data-shadow="2.0.0"]').getByRole("button", { name: "Promote…" }).isVisible()).toBe(
      true,
    );
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it("shows the name's history, and a forced promotion says it was forced", async () => {
    // Every request differs at body.version (each origin names its version): with 5 required, the shadow fails.
    await api("PUT", `/services/${NAME}/policy`, { gate: { minRequests: 5 } });
    for (let i = 0; i < 8; i++) await (await fetch(`${gateway}/services/${NAME}/items/${i}`)).arrayBuffer();
    await expect
      .poll(
        async () =>
          (await api<{ shadows: { verdict: string }[] }>("GET", `/services/${NAME}/report`)).shadows[0]?.verdict,
        {
          timeout: 15_000,
        },
      )
      .toBe("fail");
    await api("PUT", `/services/${NAME}/main`, { version: "2.0.0", force: true });

    const forced = page.locator("#history tr[data-forced]");
    await forced.waitFor({ timeout: 15_000 });
    const cells = await forced.locator("td").allTextContents();
    expect(cells.slice(1, 4)).toEqual(["admin-token", "assign", "2.0.0"]);
    expect(cells[4]).toBe("made main (was 1.0.0), verdict fail — forced over a failing verdict");
    const actions = await page
      .locator("#history tbody tr")
      .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-action")));
    expect(actions).toEqual(["assign", "policy", "deploy", "deploy"]);
  });
});

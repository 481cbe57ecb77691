// Field rules from the fields table, in a real headless Chromium against a real gateway: the comparison
// lab's two sides differ by float dust at body.price, by order at body.items and by time at
// body.createdAt, and each row offers the rule that says what that field means.
import { join } from "node:path";
import chromium from "@sparticuz/chromium";
import { type Browser, type Page, chromium as playwright } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { FieldRule } from "../../worker/src/evidence/field-rules.ts";
import type { EvidenceReport } from "../../worker/src/evidence/verdict.ts";
import { type RunningOrigin, startOrigin } from "../../worker/test/support/origins.ts";
import { adminApi } from "./admin-api.ts";

const world = inject("dashboardWorld");
const { url: gateway, token } = world.gateway;
const NAME = "fieldrules";
const api = adminApi(gateway, token);

/** Chromium logs every refused fetch: the page's first look without a token (401) and the 422s provoked below. */
const EXPECTED_REFUSALS = /Failed to load resource: the server responded with a status of (401|422)/;

let browser: Browser;
let page: Page;
let origins: RunningOrigin[] = [];
const problems: string[] = [];

async function send(path: string, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async () => (await fetch(`${gateway}/services/${NAME}${path}`)).arrayBuffer()),
  );
}

const report = () => api<EvidenceReport>("GET", `/services/${NAME}/report?window=15m`);
const rules = async () => (await api<{ rules: FieldRule[] }>("GET", `/services/${NAME}/policy`)).rules;
const card = () => page.locator('[data-shadow="2.0.0"]');
const row = (path: string) => card().locator(`tr[data-path="${path}"]`);
const ruleText = (path: string) => row(path).locator('td[data-label="rule"] span').textContent();
const dialog = () => page.locator("dialog[open]");

beforeAll(async () => {
  origins = await Promise.all([
    startOrigin({ version: "1.0.0", compareLab: "main" }),
    startOrigin({ version: "2.0.0", compareLab: "shadow" }),
  ]);
  const [main, shadow] = origins;
  await api("DELETE", `/services/${NAME}`).catch(() => undefined);
  await api("POST", "/services", { name: NAME, version: "1.0.0", origin: main?.url });
  await api("POST", "/services", { name: NAME, version: "2.0.0", origin: shadow?.url });
  await Promise.all([send("/price-dust", 10), send("/items-reordered", 10), send("/created", 10)]);
  // Until every lab field's row is in the report (hooks have no expect.poll).
  const wanted = ["body.price", "body.items[].id", "body.items[].q", "body.createdAt"];
  for (let tries = 0; ; tries++) {
    const paths = new Set((await report()).shadows[0]?.fields.map((field) => field.path));
    if (wanted.every((path) => paths.has(path))) break;
    if (tries === 40) throw new Error(`the report has ${[...paths].join(", ")}, not all of ${wanted.join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  const env = { ...process.env, LANG: "C" };
  browser = await playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args, env });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(10_000);
  page.on("console", (message) => {
    if (message.type() === "error" && !EXPECTED_REFUSALS.test(message.text())) problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  await page.goto(`${gateway}/dashboard/`);
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  // Other files' names may need attention more and open first: choose this one.
  await page.locator(`.name-tabs [data-tab="${NAME}"]`).click();
  await row("body.price").waitFor();
}, 60_000);

afterAll(async () => {
  await api("DELETE", `/services/${NAME}`).catch(() => undefined);
  await browser?.close();
  await Promise.all(origins.map((origin) => origin.close()));
});

// A step that failed with its dialog open must not block the next one.
afterEach(async () => {
  if (await dialog().count()) await page.keyboard.press("Escape");
});

describe("field rules on the fields table's rows", () => {
  it("shows every differing body field as compared exactly, with a Rule… action", async () => {
    expect(await card().locator("table.fields thead th").allTextContents()).toEqual([
      "path",
      "kind",
      "count",
      "rate",
      "noise rate",
      "counts",
      "rule",
      "ignore",
      "",
    ]);
    for (const path of ["body.price", "body.items[].id", "body.createdAt"]) {
      expect(await ruleText(path), path).toBe("exact");
      expect(await row(path).getAttribute("data-rule"), path).toBeNull();
      expect(
        await row(path)
          .getByRole("button", { name: `Rule for ${path}` })
          .isVisible(),
        path,
      ).toBe(true);
    }
  });

  it("treats a field as a number with tolerance: the rule is stored, the row says so, and float dust stops differing", async () => {
    await row("body.price").getByRole("button", { name: "Rule for body.price" }).click();
    expect(await dialog().locator("h2").textContent()).toBe("How body.price compares");
    expect(await dialog().getByLabel("treat as a number with tolerance…").isChecked()).toBe(true);
    await dialog().getByLabel("relative tolerance (rel)").fill("1e-6");
    await dialog().getByRole("button", { name: "Save" }).click();
    await dialog().waitFor({ state: "detached" });

    expect(await rules()).toEqual([{ path: "body.price", match: "number", rel: 1e-6 }]);
    await expect.poll(() => row("body.price").getAttribute("data-rule"), { timeout: 10_000 }).toBe("number");
    expect(await ruleText("body.price")).toBe("number within rel 0.000001");
    expect(await page.locator("#notice").textContent()).toBe(`body.price of ${NAME}: number within rel 0.000001.`);

    // The gateway compares new copies by the rule: ten more with float dust, and body.price's count stays.
    const before = (await report()).shadows[0];
    const counted = before?.fields.find((field) => field.path === "body.price")?.count;
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the proxy's route cache (1 s)
    await send("/price-dust", 10);
    await expect
      .poll(async () => (await report()).shadows[0]?.requests.compared ?? 0, { timeout: 15_000, interval: 500 })
      .toBeGreaterThanOrEqual((before?.requests.compared ?? 0) + 10);
    const after = (await report()).shadows[0]?.fields.find((field) => field.path === "body.price")?.count;
    expect(after).toBe(counted);
  });

  it("refuses a tolerance with neither abs nor rel with the API's 422, in the dialog, and stores nothing", async () => {
    await row("body.createdAt").getByRole("button", { name: "Rule for body.createdAt" }).click();
    await dialog().getByLabel("treat as a number with tolerance…").check();
    await dialog().getByRole("button", { name: "Save" }).click();
    await expect.poll(() => dialog().locator(".message").textContent()).toMatch(/^422 \w+: rulesAdd\.0.* abs or rel/);
    // Still open, to correct; a tolerance that is not a number is named by the API too.
    await dialog().getByLabel("absolute tolerance (abs)").fill("a lot");
    await dialog().getByRole("button", { name: "Save" }).click();
    await expect.poll(() => dialog().locator(".message").textContent()).toMatch(/^422 \w+: rulesAdd\.0\.abs /);
    await dialog().getByRole("button", { name: "Cancel" }).click();
    expect(await rules()).toEqual([{ path: "body.price", match: "number", rel: 1e-6 }]);
    expect(await ruleText("body.createdAt")).toBe("exact");
  });

  it("makes order not matter for the array holding a row, matched by the key the row names", async () => {
    await row("body.items[].id").getByRole("button", { name: "Rule for body.items[].id" }).click();
    await dialog().getByLabel("order does not matter").check();
    // Offered for the array above the field, its elements matched by id.
    expect(await dialog().getByLabel("the array").inputValue()).toBe("body.items");
    expect(await dialog().getByLabel("elements matched by (optional)").inputValue()).toBe("id");
    await dialog().getByRole("button", { name: "Save" }).click();
    await dialog().waitFor({ state: "detached" });

    expect(await rules()).toEqual(expect.arrayContaining([{ path: "body.items", match: "unordered", key: "id" }]));
    // Both fields of the elements are governed by it.
    for (const path of ["body.items[].id", "body.items[].q"]) {
      await expect.poll(() => row(path).getAttribute("data-rule"), { timeout: 10_000 }).toBe("unordered");
      expect(await ruleText(path)).toBe("order does not matter (by id)");
    }
  });

  it("makes only presence matter", async () => {
    await row("body.createdAt").getByRole("button", { name: "Rule for body.createdAt" }).click();
    await dialog().getByLabel("only presence matters").check();
    await dialog().getByRole("button", { name: "Save" }).click();
    await dialog().waitFor({ state: "detached" });
    expect(await rules()).toEqual(expect.arrayContaining([{ path: "body.createdAt", match: "present" }]));
    await expect.poll(() => row("body.createdAt").getAttribute("data-rule"), { timeout: 10_000 }).toBe("present");
    expect(await ruleText("body.createdAt")).toBe("only presence matters");
    expect(await rules()).toHaveLength(3);
  });

  it("fits the rule column on a 390 px phone", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const cell = await row("body.items[].q").locator('td[data-label="rule"]').boundingBox();
      if (!cell) throw new Error("the rule cell is not shown at 390 px");
      expect(cell.x + cell.width).toBeLessThanOrEqual(390);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(
        0,
      );
      await page.screenshot({ path: join(world.screenshotDir, "field-rules-390.png"), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it("removes a rule from any row it governs, leaving the others", async () => {
    await row("body.items[].q").getByRole("button", { name: "Rule for body.items[].q" }).click();
    await dialog()
      .getByLabel(/^compare exactly: remove the rule on body\.items /)
      .check();
    await page.screenshot({ path: join(world.screenshotDir, "field-rules-dialog.png") });
    await dialog().getByRole("button", { name: "Save" }).click();
    await dialog().waitFor({ state: "detached" });
    expect(await rules()).toEqual([
      { path: "body.price", match: "number", rel: 1e-6 },
      { path: "body.createdAt", match: "present" },
    ]);
    await expect.poll(() => ruleText("body.items[].q"), { timeout: 10_000 }).toBe("exact");
    expect(await row("body.items[].id").getAttribute("data-rule")).toBeNull();
    expect(await page.locator("#notice").textContent()).toBe(`body.items[].q of ${NAME} is compared exactly again.`);
  });

  it("says each rule change in words in the name's history, newest first", async () => {
    const changes = page.locator('#history tr[data-action="policy"] td:last-child');
    await expect
      .poll(() => changes.allTextContents())
      .toEqual([
        "compares body.items exactly again",
        "body.createdAt: only presence matters",
        "body.items: order does not matter (by id)",
        "body.price: number within rel 0.000001",
      ]);
  });

  it("logged no console errors", () => {
    expect(problems.join("\n")).toBe("");
  });
});

// Retakes docs/dashboard.png, the dashboard guide's screenshot, from a realistic run: a throwaway gateway,
// examples/hello origins (main, and three shadows: one that answers like main, one that changes
// the price on a fifth of its answers, one that fails 5 % of requests with a 500), steady traffic
// through /services/hello/ for a few minutes, then the dashboard in Chromium at 1280 px.
//
//   npm run screenshot [-- minutes]
//
// Every hello stamps its answers with the time (`--timestamp`), which the gateway learns as noise,
// and its own version, which the policy ignores (it differs by design).
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import chromium from "@sparticuz/chromium";
import { chromium as playwright } from "playwright-core";
import { startGateway } from "./gateway.ts";

const checkout = join(dirname(fileURLToPath(import.meta.url)), "..");
const minutes = Number(process.argv[2] ?? "3");
// Anything else would send no traffic and photograph empty charts over docs/dashboard.png.
if (!(minutes > 0) || process.argv.length > 3) {
  console.error("screenshot: the only argument is the minutes of traffic before the shot, say npm run screenshot -- 3");
  process.exit(2);
}
const RATE_PER_SECOND = 8;

const children: ChildProcess[] = [];

function hello(version: string, flags: string[]): Promise<string> {
  const child = spawn(process.execPath, [join(checkout, "examples/hello/server.mjs"), version, "0", ...flags], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`hello ${version} exited ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const listening = /listening on (http:\/\/\S+)$/.exec(line);
      if (listening?.[1]) resolve(listening[1]);
    });
  });
}

const scratch = await mkdtemp(join(tmpdir(), "daeploy-edge-screenshot-"));
const gateway = await startGateway({ token: `shot-${randomUUID()}`, stateDir: join(scratch, "gateway") });
try {
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${gateway.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${gateway.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const origins = {
    main: await hello("1.0.0", ["--timestamp"]),
    clean: await hello("1.0.1", ["--timestamp"]),
    differing: await hello("1.1.0", ["--timestamp", "--differ", "price:0.2"]),
    erroring: await hello("2.0.0", ["--timestamp", "--errors", "0.05", "--delay-ms", "3"]),
  };
  await api("POST", "/services", { name: "hello", version: "1.0.0", origin: origins.main });
  await api("POST", "/services", { name: "hello", version: "1.0.1", origin: origins.clean });
  await api("POST", "/services", { name: "hello", version: "1.1.0", origin: origins.differing });
  await api("POST", "/services", { name: "hello", version: "2.0.0", origin: origins.erroring });
  await api("POST", "/services", { name: "billing", version: "1.0.0", origin: origins.main });
  await api("PUT", "/services/hello/policy", { ignoreAdd: ["body.version"] });

  // Steady traffic, so the charts have complete minutes to draw.
  const until = Date.now() + minutes * 60_000;
  let sent = 0;
  while (Date.now() < until) {
    const started = Date.now();
    await Promise.all(
      Array.from({ length: RATE_PER_SECOND }, async () => {
        const response = await fetch(`${gateway.url}/services/hello/items/${sent++ % 50}`);
        await response.arrayBuffer();
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))));
  }
  // The last isolate batches land within a second or two.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  console.log(`sent ${sent} requests`);

  const browser = await playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  await page.goto(`${gateway.url}/dashboard/`);
  await page.getByLabel("Admin token").fill(gateway.token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#charts canvas").first().waitFor({ timeout: 15_000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(checkout, "docs/dashboard.png"), fullPage: true });
  await browser.close();
  console.log("wrote docs/dashboard.png");
} finally {
  for (const child of children) child.kill("SIGTERM");
  await gateway.stop();
  await rm(scratch, { recursive: true, force: true });
}

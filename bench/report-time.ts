// `npm run bench:report`: how long a busy name's report takes over 7 d, 24 h and 1 h, through the
// admin API of a real gateway (`npm run dev`). The name has 3 shadows; its ledger is seeded with
// days of their evidence (bench/lib/week-seed.ts), written into the ledger's SQLite file while the
// gateway is stopped, as that much traffic would have left it. Each report is read cold, then again
// at once, as the dashboard's 5 s refresh would. `--root <dir>` measures another checkout (say, a
// copy of main before a change to the read path) whose ledger has this layout.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { type RunningGateway, startGateway } from "../scripts/gateway.ts";
import { seedWeek } from "./lib/week-seed.ts";

const USAGE = `npm run bench:report [-- options]: a busy name's report time over 7 d, 24 h and 1 h

  --days N      days of evidence seeded, 1 to 7 (default 7)
  --root <dir>  measure another checkout's gateway (its ledger must have this checkout's layout)
  --help        this text`;

/** The command line, or one line saying what is wrong with it (never a stack trace). */
function parseOptions(): { days: number; root: string | undefined } {
  const fail = (message: string): never => {
    console.error(`bench:report: ${message}. See npm run bench:report -- --help.`);
    process.exit(2);
  };
  let values: { days: string; root?: string; help: boolean };
  try {
    values = parseArgs({
      options: {
        days: { type: "string", default: "7" },
        root: { type: "string" },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 7) {
    fail(`--days must be a whole number from 1 to 7, not '${values.days}'`);
  }
  const root = values.root === undefined ? undefined : resolve(values.root);
  if (root !== undefined && !existsSync(join(root, "scripts", "dev.mjs"))) {
    fail(`--root ${values.root} holds no checkout of daeploy-edge (no scripts/dev.mjs)`);
  }
  return { days, root };
}

const { days, root } = parseOptions();
const MINUTE = 60_000;
const NAME = "busy";
const MAIN = "1.0.0";
const SHADOWS = ["1.1.0", "1.2.0", "1.3.0"];
const log = (line: string) => console.log(`[report-time] ${line}`);

function ledgerFile(stateDir: string): string {
  const doDir = join(stateDir, "wrangler-state", "v3", "do");
  const dir = existsSync(doDir) ? readdirSync(doDir).find((d) => d.endsWith("EvidenceLedger")) : undefined;
  const file = dir && readdirSync(join(doDir, dir)).find((f) => f.endsWith(".sqlite"));
  if (!dir || !file) throw new Error(`no evidence ledger under ${doDir}`);
  return join(doDir, dir, file);
}

function seed(file: string, first: number, last: number, now: number): number {
  const db = new DatabaseSync(file);
  try {
    return seedWeek(db, { main: MAIN, shadows: SHADOWS, first, last, now });
  } finally {
    db.close();
  }
}

async function api(gateway: RunningGateway, method: string, path: string, body?: unknown) {
  const response = await fetch(`${gateway.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${gateway.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as unknown;
}

/** The copies of each shadow a report counted: the seeded evidence was read, or the timings mean nothing. */
function mirrored(report: unknown): string {
  const shadows = (report as { shadows?: { version: string; requests: { mirrored: number } }[] }).shadows ?? [];
  const counted = shadows.map((s) => `${s.version} ${s.requests.mirrored.toLocaleString("en")}`);
  if (shadows.length !== SHADOWS.length || shadows.some((s) => s.requests.mirrored === 0)) {
    throw new Error(`the report did not read the seeded evidence (copies per shadow: ${counted.join(", ") || "none"})`);
  }
  return counted.join(", ");
}

async function measure(stateDir: string, token: string): Promise<void> {
  const where = { token, stateDir, ...(root ? { root } : {}) };
  let gateway: RunningGateway | undefined = await startGateway(where);
  try {
    // Nothing listens below the ephemeral range on 127.0.0.1: the shadows are down, which is fine here.
    for (const version of [MAIN, ...SHADOWS]) {
      await api(gateway, "POST", "/services", { name: NAME, version, origin: "http://127.0.0.1:9", check: false });
    }
    // One request makes the ledger write its first batch, so its tables exist on disk.
    await (await fetch(`${gateway.url}/services/${NAME}/`)).arrayBuffer();
    await new Promise((done) => setTimeout(done, 2_500));
    await gateway.stop();
    gateway = undefined;

    const now = Date.now();
    const last = Math.floor(now / MINUTE);
    const rows = seed(ledgerFile(stateDir), last - days * 24 * 60 + 1, last, now);
    log(`seeded ${days} d × ${SHADOWS.length} shadows against ${MAIN}: ${rows} rows (minutes over 3 h old as hours)`);

    gateway = await startGateway(where);
    const running = gateway;
    const results: Record<string, number> = {};
    const time = async (label: string, path: string) => {
      const started = performance.now();
      const report = await api(running, "GET", path);
      const ms = performance.now() - started;
      results[label] = Math.round(ms);
      log(`${label.padEnd(26)} ${ms.toFixed(0).padStart(6)} ms`);
      return report;
    };
    for (const window of ["7d", "24h", "1h"]) {
      const report = `/services/${NAME}/report?window=${window}`;
      log(`${window} report counts copies: ${mirrored(await time(`${window} report`, report))}`);
      await time(`${window} report again`, report);
      await time(`${window} series`, `${report}&series=true`);
      await time(`${window} series again`, `${report}&series=true`);
    }
    console.log(JSON.stringify({ days, shadows: SHADOWS.length, rows, ms: results }));
  } finally {
    await gateway?.stop();
  }
}

const stateDir = mkdtempSync(join(tmpdir(), "daeploy-report-time-"));
try {
  await measure(stateDir, `bench-${process.pid}`);
} catch (error) {
  console.error(`bench:report: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}

// `npm run bench:report`: how long a busy name's report takes over 7 d, 24 h and 1 h, through the
// admin API of a real gateway (`npm run dev`). The name has 3 shadows; its ledger is seeded with a
// week of their minutes (counters, latency histograms, signatures, noise), written into the
// ledger's SQLite file while the gateway is stopped, as a week of traffic would have left it.
// Each report is read cold, then again at once, as the dashboard's 5 s refresh would.
// `--root <dir>` measures another checkout (say, an export of an older commit); a ledger of the
// first layout (before outcomes and partial signatures) is seeded in its own layout.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { type RunningGateway, startGateway } from "../scripts/gateway.ts";
import { LatencyHistogram } from "../worker/src/evidence/histogram.ts";

const { values: options } = parseArgs({
  options: { days: { type: "string", default: "7" }, root: { type: "string" } },
});
const MINUTE = 60_000;
const days = Number(options.days);
const NAME = "busy";
const SHADOWS = ["1.1.0", "1.2.0", "1.3.0"];
const log = (line: string) => console.log(`[report-time] ${line}`);

function ledgerFile(stateDir: string): string {
  const doDir = join(stateDir, "wrangler-state", "v3", "do");
  const dir = existsSync(doDir) ? readdirSync(doDir).find((d) => d.endsWith("EvidenceLedger")) : undefined;
  const file = dir && readdirSync(join(doDir, dir)).find((f) => f.endsWith(".sqlite"));
  if (!dir || !file) throw new Error(`no evidence ledger under ${doDir}`);
  return join(doDir, dir, file);
}

/** A busy minute of one shadow: 300 copies, latencies over ~30 buckets, two signatures. */
function histograms(seed: number): [string, string] {
  const main = new LatencyHistogram();
  const shadow = new LatencyHistogram();
  for (let i = 0; i < 30; i++) {
    main.add(5 + ((seed + i * 7) % 60), 10);
    shadow.add(6 + ((seed + i * 11) % 70), 10);
  }
  return [JSON.stringify(main.toJson()), JSON.stringify(shadow.toJson())];
}

function seed(file: string, first: number, last: number): number {
  const db = new DatabaseSync(file);
  try {
    const columns = (table: string) =>
      (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((c) => c.name);
    // The first layout: no down or unrecorded, no partial signatures, noise by path alone, no fields.
    const firstLayout = !columns("signatures").includes("partial");
    db.exec("BEGIN");
    const counters = db.prepare(
      firstLayout
        ? `INSERT OR REPLACE INTO counters (version, minute, mirrored, compared, not_compared, skipped, errors_main,
             errors_shadow, latency_main, latency_shadow) VALUES (?, ?, 300, 295, 5, 0, 2, 5, ?, ?)`
        : `INSERT OR REPLACE INTO counters (version, minute, mirrored, compared, not_compared, errors_shadow, down,
             skipped, unrecorded, errors_main, latency_main, latency_shadow) VALUES (?, ?, 300, 290, 5, 5, 0, 0, 0, 2, ?, ?)`,
    );
    const signatures = db.prepare(
      firstLayout
        ? "INSERT OR REPLACE INTO signatures (version, minute, signature, count) VALUES (?, ?, ?, ?)"
        : "INSERT OR REPLACE INTO signatures (version, minute, partial, signature, count) VALUES (?, ?, 0, ?, ?)",
    );
    const noise = db.prepare("INSERT OR REPLACE INTO noise (minute, sampled) VALUES (?, 15)");
    const noisePaths = db.prepare(
      `INSERT OR REPLACE INTO noise_paths (minute, ${firstLayout ? "path" : "field"}, count) VALUES (?, ?, 15)`,
    );
    const fields = firstLayout
      ? undefined
      : db.prepare("INSERT OR REPLACE INTO fields (version, field, last_minute) VALUES (?, ?, ?)");
    let rows = 0;
    for (let minute = first; minute <= last; minute++) {
      for (const version of SHADOWS) {
        const [main, shadow] = histograms(minute);
        counters.run(version, minute, main, shadow);
        signatures.run(version, minute, "body.time value", 200);
        signatures.run(version, minute, "body.price value\nbody.time value", 3 + (minute % 4));
        rows += 3;
      }
      noise.run(minute);
      noisePaths.run(minute, firstLayout ? "body.time" : "body.time value");
      rows += 2;
    }
    for (const version of SHADOWS) {
      fields?.run(version, "body.time value", last);
      fields?.run(version, "body.price value", last);
    }
    db.exec("COMMIT");
    return rows;
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

const stateDir = mkdtempSync(join(tmpdir(), "daeploy-report-time-"));
const token = `bench-${process.pid}`;
let gateway: RunningGateway | undefined;
try {
  const root = options.root;
  gateway = await startGateway({ token, stateDir, ...(root ? { root } : {}) });
  // Nothing listens below the ephemeral range on 127.0.0.1: the shadows are down, which is fine here.
  for (const [version, origin] of [["1.0.0", "http://127.0.0.1:9"], ...SHADOWS.map((v) => [v, "http://127.0.0.1:9"])]) {
    await api(gateway, "POST", "/services", { name: NAME, version, origin, check: false });
  }
  // One request makes the ledger write its first batch, so its tables exist on disk.
  await (await fetch(`${gateway.url}/services/${NAME}/`)).arrayBuffer();
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  await gateway.stop();

  const now = Date.now();
  const last = Math.floor(now / MINUTE);
  const first = last - days * 24 * 60 + 1;
  const rows = seed(ledgerFile(stateDir), first, last);
  log(`seeded ${days} d × ${SHADOWS.length} shadows: ${rows} rows`);

  gateway = await startGateway({ token, stateDir, ...(root ? { root } : {}) });
  const results: Record<string, number> = {};
  const time = async (label: string, path: string) => {
    const started = performance.now();
    await api(gateway as RunningGateway, "GET", path);
    const ms = performance.now() - started;
    results[label] = Math.round(ms);
    log(`${label.padEnd(26)} ${ms.toFixed(0).padStart(6)} ms`);
  };
  for (const window of ["7d", "24h", "1h"]) {
    const report = `/services/${NAME}/report?window=${window}`;
    await time(`${window} report`, report);
    await time(`${window} report again`, report);
    await time(`${window} series`, `${report}&series=true`);
    await time(`${window} series again`, `${report}&series=true`);
  }
  console.log(JSON.stringify({ days, shadows: SHADOWS.length, rows, ms: results }));
} finally {
  await gateway?.stop();
  rmSync(stateDir, { recursive: true, force: true });
}

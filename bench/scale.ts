// `npm run bench -- --scale [--quick]`: many simulated isolates, each writing one realistic
// evidence batch a second to its shard of one name's ledger, against 1 and 4 shards; and the
// most writes a second one shard takes here. The numbers behind docs/scale.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { cpuSnapshot } from "./lib/proc-stats.ts";
import { freePort, stopAll } from "./lib/processes.ts";
import { otherLoadPercent } from "./lib/report.ts";
import { startScaleWorker } from "./lib/wrangler-dev.ts";

const log = (line: string) => console.log(`[bench:scale] ${line}`);

interface WriteResult {
  ok: boolean;
  ms: number;
  overloaded?: boolean;
}

export interface ScaleRow {
  shards: number;
  writers: number;
  seconds: number;
  /** Batches the writers were due to send (one a second each) and those the ledger took. */
  due: number;
  written: number;
  overloaded: number;
  failed: number;
  /** Writes that started after their second was up: the writer could not keep one batch a second. */
  late: number;
  writesPerSecond: number;
  /** Time of one write as the isolate waits for it (inside the Worker, around the ledger call). */
  p50Ms: number;
  p99Ms: number;
  otherLoadPct: number;
}

export interface FloodRow {
  concurrency: number;
  perSecond: number;
  overloaded: number;
  failed: number;
}

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);

/** `writers` isolates, each sending one batch a second to the shard it chose at random, for `seconds`. */
async function writersScenario(url: string, shards: number, writers: number, seconds: number): Promise<ScaleRow> {
  const name = `scale-${shards}x${writers}-${Date.now()}`;
  const latencies: number[] = [];
  const row = { due: 0, written: 0, overloaded: 0, failed: 0, late: 0 };
  const before = cpuSnapshot();
  const started = Date.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      const shard = Math.floor(Math.random() * shards);
      let due = started + Math.random() * 1000;
      while (due < end) {
        const wait = due - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        else if (wait < -1000) row.late++;
        row.due++;
        try {
          const response = await fetch(`${url}/write?name=${name}&shard=${shard}`);
          const result = (await response.json()) as WriteResult;
          if (result.ok) {
            row.written++;
            latencies.push(result.ms);
          } else if (result.overloaded) row.overloaded++;
          else row.failed++;
        } catch {
          row.failed++;
        }
        due += 1000;
      }
    }),
  );
  const wallMs = Date.now() - started;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    shards,
    writers,
    seconds,
    ...row,
    writesPerSecond: row.written / (wallMs / 1000),
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    otherLoadPct: otherLoadPercent(before, cpuSnapshot(), wallMs, availableParallelism()),
  };
}

async function flood(url: string, concurrency: number, seconds: number): Promise<FloodRow> {
  const name = `flood-${concurrency}-${Date.now()}`;
  const response = await fetch(`${url}/flood?name=${name}&concurrency=${concurrency}&ms=${seconds * 1000}`);
  const result = (await response.json()) as { perSecond: number; overloaded: number; failed: number };
  return { concurrency, perSecond: result.perSecond, overloaded: result.overloaded, failed: result.failed };
}

export function scaleTable(rows: ScaleRow[]): string {
  const lines = [
    "| shards | writers (1 batch/s each) | batches due | written | writes/s | p50 ms | p99 ms | overloaded | failed | late | other load |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.shards} | ${r.writers} | ${r.due} | ${r.written} | ${r.writesPerSecond.toFixed(0)} | ${r.p50Ms} | ${r.p99Ms} | ${r.overloaded} | ${r.failed} | ${r.late} | ${r.otherLoadPct.toFixed(0)} % |`,
    );
  }
  return lines.join("\n");
}

export async function runScale(options: { root: string; quick: boolean; resultsDir: string }): Promise<void> {
  // --quick checks the harness end to end (a test runs it on every `npm test`); its numbers are not for quoting.
  const seconds = options.quick ? 2 : 20;
  const floodSeconds = options.quick ? 1 : 10;
  const workDir = mkdtempSync(join(tmpdir(), "daeploy-scale-"));
  const logDir = join(workDir, "logs");
  mkdirSync(logDir);
  try {
    const worker = await startScaleWorker({
      root: options.root,
      port: await freePort(),
      stateDir: join(workDir, "state"),
      logDir,
    });
    log(`ledger worker up at ${worker.url}`);
    await fetch(`${worker.url}/write?name=warmup&shard=0`);
    const rows: ScaleRow[] = [];
    for (const shards of [1, 4]) {
      for (const writers of [10, 100, 400]) {
        const row = await writersScenario(worker.url, shards, writers, seconds);
        log(
          `${shards} shard(s), ${writers} writers: ${row.written}/${row.due} written, ${row.writesPerSecond.toFixed(0)}/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, overloaded ${row.overloaded}, other load ${row.otherLoadPct.toFixed(0)} %`,
        );
        rows.push(row);
      }
    }
    const floods: FloodRow[] = [];
    for (const concurrency of [1, 8, 32]) {
      const row = await flood(worker.url, concurrency, floodSeconds);
      log(`one shard, ${concurrency} writers back to back: ${row.perSecond.toFixed(0)} writes/s`);
      floods.push(row);
    }
    const most = Math.max(...floods.map((f) => f.perSecond));
    const record = { at: new Date().toISOString(), quick: options.quick, seconds, rows, floods, mostPerShard: most };
    const out = join(options.resultsDir, options.quick ? "scale-quick.json" : "scale-latest.json");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`\n${scaleTable(rows)}\n`);
    console.log(`Most writes a second one shard took here (closed loop, 1/8/32 writers): ${most.toFixed(0)}`);
    log(`written ${out}`);
  } finally {
    await stopAll();
    rmSync(workDir, { recursive: true, force: true });
  }
}

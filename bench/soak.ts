// `npm run bench -- --soak [--minutes N]`: mixed traffic for N minutes (20 by default) through one
// gateway started as `npm run dev` starts it: a name with 2 shadows (one answering after 2 s) whose
// answers differ from main's (so samples are kept), a 20 % canary, a rollout stepping every minute,
// and the dashboard's refreshes (the services list and two reports with their series) every 5 s.
// The same request rate goes to the bare pass-through Worker, on the same workerd, as a control:
// wrangler dev's own runtime may drift, and the gateway's memory means something only beside it.
// The warm-up (the first 5 minutes, or the first quarter of a shorter run) sends the same mix faster.
// workerd's resident memory is sampled every 10 s; the slope after the warm-up and the
// evidence lost (copies the traffic made that the report does not count) are printed at the end.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { heapUsedMb } from "./lib/inspector.ts";
import { type Origin, startOrigin } from "./lib/origins.ts";
import { rssKb } from "./lib/proc-stats.ts";
import { freePort, stopAll } from "./lib/processes.ts";
import { snapshotGateway } from "./lib/snapshot.ts";
import { type EvidenceCount, lostOf, type MemorySample, memoryTable, memoryTrend } from "./lib/soak-math.ts";
import {
  admin,
  deployService,
  type Gateway,
  startGateway,
  startPassthrough,
  type WorkerdRuntime,
} from "./lib/wrangler-dev.ts";

const log = (line: string) => console.log(`[bench:soak] ${line}`);

/** Requests a second to the gateway (and as many to the control): an ordinary load on two shared cores. */
const RATE = 30;
/**
 * The rate of the warm-up, which the memory trend leaves out. workerd under wrangler dev keeps memory
 * for its first tens of thousands of requests and then holds it, a hello-world Worker as much as the
 * gateway (bench/RESULTS.md, wave 9): at RATE that takes 15 minutes, so the warm-up sends them
 * sooner, and what is left after it is what the gateway itself keeps.
 */
const WARMUP_RATE = 100;
const SAMPLE_EVERY_MS = 10_000;
const REFRESH_EVERY_MS = 5_000;
const WARMUP_S = 5 * 60;
/** Long enough for the slow shadow's last copies and the last evidence batch. */
const SETTLE_MS = 8_000;

interface Traffic {
  name: string;
  path: string;
  /** Of every 4 requests to the gateway, how many go to this name. */
  share: number;
}

// /bench answers differ between origins (each names itself): every comparison finds a difference.
// /json4k is the same document everywhere: the rollout's verdict can pass.
const TRAFFIC: Traffic[] = [
  { name: "mix", path: "/bench", share: 2 },
  { name: "can", path: "/json4k", share: 1 },
  { name: "roll", path: "/json4k", share: 1 },
];

async function setUp(gateway: Gateway, origins: Record<string, Origin>): Promise<void> {
  const { main, shadowA, shadowB, shadowSlow } = origins as Record<string, Origin>;
  if (!main || !shadowA || !shadowB || !shadowSlow) throw new Error("origins missing");
  for (const name of ["mix", "can", "roll"]) {
    await deployService(gateway, { name, version: "1.0.0", origin: main.url, check: true });
  }
  await deployService(gateway, { name: "mix", version: "1.1.0", origin: shadowA.url, check: true });
  await deployService(gateway, { name: "mix", version: "1.2.0", origin: shadowSlow.url, check: true });
  await deployService(gateway, { name: "can", version: "1.1.0", origin: shadowB.url, check: true, canaryPercent: 20 });
  await deployService(gateway, { name: "roll", version: "1.1.0", origin: shadowA.url, check: true });
  // No evidence yet, so the gate cannot pass it: started by force, as an operator would, and not promoted.
  await admin(gateway, "POST", "/services/roll/1.1.0/rollout", {
    steps: [5, 25, 50],
    stepMinutes: 1,
    promote: false,
    force: true,
  });
}

/** Open-loop traffic: one request every 1/WARMUP_RATE s during the warm-up, then every 1/RATE s, to the gateway and to the control. */
function startTraffic(gateway: string, control: string, warmupS: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const answered = new Map<string, number>();
  const failed = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const pending = new Set<Promise<void>>();
  const send = (url: string, key: string) => {
    const done = new Promise<void>((resolve) => {
      const req = request(url, { agent, timeout: 30_000 }, (res) => {
        res.resume();
        res.on("end", () => {
          bump((res.statusCode ?? 0) < 400 ? answered : failed, key);
          resolve();
        });
        res.on("error", () => {
          bump(failed, key);
          resolve();
        });
      });
      req.on("timeout", () => req.destroy());
      req.on("error", () => {
        bump(failed, key);
        resolve();
      });
      req.end();
    });
    pending.add(done);
    done.then(() => pending.delete(done));
  };
  const plan = TRAFFIC.flatMap((t) => Array.from({ length: t.share }, () => t));
  let i = 0;
  const started = performance.now();
  let due = started;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const traffic = plan[i % plan.length] as Traffic;
    send(`${gateway}/services/${traffic.name}${traffic.path}`, traffic.name);
    send(`${control}${traffic.path}`, "control");
    i++;
    due += 1000 / (due - started < warmupS * 1000 ? WARMUP_RATE : RATE);
    setTimeout(tick, Math.max(0, due - performance.now()));
  };
  tick();
  return {
    answered,
    failed,
    async stop() {
      stopped = true;
      await Promise.all(pending);
      agent.destroy();
    },
  };
}

/** The dashboard open on two names: the services list and two reports with series, every 5 s. */
function startRefreshes(gateway: Gateway) {
  let failures = 0;
  const refresh = async () => {
    for (const path of [
      "/services",
      "/services/mix/report?window=1h&series=true",
      "/services/roll/report?series=true",
    ]) {
      try {
        await admin(gateway, "GET", path);
      } catch {
        failures++;
      }
    }
  };
  const timer = setInterval(() => void refresh(), REFRESH_EVERY_MS);
  return {
    stop() {
      clearInterval(timer);
      return failures;
    },
  };
}

const rssMbOf = (runtime: WorkerdRuntime) =>
  runtime
    .processes()
    .filter((p) => p.label.startsWith("workerd"))
    .reduce((sum, p) => sum + rssKb(p.pid), 0) / 1024;

interface ShadowCounts {
  version: string;
  requests: { mirrored: number; unrecorded: number };
}

/** Copies each shadow should have been sent (every answered request: mirrored at 100 %) against the report. */
async function evidenceCounts(gateway: Gateway, answered: Map<string, number>, minutes: number) {
  const window = `${Math.max(5, Math.ceil(minutes) + 5)}m`;
  const counts: EvidenceCount[] = [];
  for (const { name } of TRAFFIC) {
    const report = (await admin(gateway, "GET", `/services/${name}/report?window=${window}`)) as {
      mainTraffic: { requests: number };
      shadows: ShadowCounts[];
    };
    const expected = answered.get(name) ?? 0;
    // Main serves every request of a name without a canary; with one, the canary's share is not main's traffic.
    if (name === "mix") {
      counts.push({ name, version: "main", expected, recorded: report.mainTraffic.requests, unrecorded: 0 });
    }
    for (const shadow of report.shadows) {
      counts.push({
        name,
        version: shadow.version,
        expected,
        recorded: shadow.requests.mirrored,
        unrecorded: shadow.requests.unrecorded,
      });
    }
  }
  return counts;
}

export async function runSoak(options: { root: string; minutes: number; resultsDir: string }): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), "daeploy-soak-"));
  const logDir = join(workDir, "logs");
  mkdirSync(logDir);
  let failed = false;
  try {
    const [main, shadowA, shadowB, shadowSlow] = await Promise.all([
      startOrigin("main", 0, logDir),
      startOrigin("shadow-a", 0, logDir),
      startOrigin("shadow-b", 0, logDir),
      startOrigin("shadow-slow", 2_000, logDir),
    ]);
    const [port, inspector, controlPort, controlInspector] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const nodeModules = join(options.root, "node_modules");
    const [gateway, control] = await Promise.all([
      startGateway({
        root: snapshotGateway(options.root, join(workDir, "gateway-src"), nodeModules),
        port,
        inspectorPort: inspector,
        stateDir: join(workDir, "gateway-state"),
        logDir,
      }),
      startPassthrough({
        root: options.root,
        port: controlPort,
        inspectorPort: controlInspector,
        stateDir: join(workDir, "control-state"),
        logDir,
        origin: main.url,
      }),
    ]);
    await setUp(gateway, { main, shadowA, shadowB, shadowSlow });
    const warmupS = Math.min(WARMUP_S, (options.minutes * 60) / 4);
    log(
      `${options.minutes} min of mixed traffic, ${WARMUP_RATE} req/s for the first ${warmupS / 60} min and ${RATE} req/s after (as many to the bare Worker); memory every 10 s`,
    );

    const samples: MemorySample[] = [];
    const started = performance.now();
    const sample = async () => {
      const atS = Math.round((performance.now() - started) / 1000);
      const point = { atS, gatewayMb: rssMbOf(gateway), controlMb: rssMbOf(control), heapMb: null as number | null };
      samples.push(point);
      point.heapMb = await heapUsedMb(gateway.inspectorPort);
      if (atS % 60 < SAMPLE_EVERY_MS / 1000)
        log(
          `${(atS / 60).toFixed(1)} min: gateway ${point.gatewayMb.toFixed(0)} MB (JS heap ${point.heapMb?.toFixed(1) ?? "–"} MB), bare Worker ${point.controlMb.toFixed(0)} MB`,
        );
    };
    const traffic = startTraffic(gateway.url, control.url, warmupS);
    const refreshes = startRefreshes(gateway);
    await sample();
    const sampler = setInterval(() => void sample(), SAMPLE_EVERY_MS);
    await new Promise((resolve) => setTimeout(resolve, options.minutes * 60_000));
    clearInterval(sampler);
    await sample();
    const refreshFailures = refreshes.stop();
    await traffic.stop();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

    const counts = await evidenceCounts(gateway, traffic.answered, options.minutes);
    const trend = memoryTrend(samples, warmupS);
    const lost = counts.reduce((sum, c) => sum + lostOf(c), 0);
    const failures = Object.fromEntries(traffic.failed);
    const record = {
      at: new Date().toISOString(),
      minutes: options.minutes,
      rate: RATE,
      warmup: { seconds: warmupS, rate: WARMUP_RATE },
      samples,
      trend,
      counts,
      failures,
    };
    const out = join(options.resultsDir, "soak-latest.json");
    mkdirSync(options.resultsDir, { recursive: true });
    writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);

    console.log(`\n${memoryTable(samples)}\n`);
    const mbMin = (v: number | null) => (v === null ? "–" : `${v >= 0 ? "+" : ""}${v.toFixed(2)} MB/min`);
    console.log(
      `After warm-up (${trend.samples} samples): gateway RSS ${mbMin(trend.gatewayMbPerMin)} (range ${trend.gatewayRangeMb?.toFixed(0) ?? "–"} MB), its JS heap ${mbMin(trend.heapMbPerMin)}, bare Worker RSS ${mbMin(trend.controlMbPerMin)}`,
    );
    console.log("\n| name | version | expected | recorded | lost | unrecorded |\n|---|---|--:|--:|--:|--:|");
    for (const c of counts) {
      console.log(`| ${c.name} | ${c.version} | ${c.expected} | ${c.recorded} | ${lostOf(c)} | ${c.unrecorded} |`);
    }
    console.log(
      `\nEvidence lost: ${lost}; requests that failed: ${JSON.stringify(failures)}; dashboard refreshes that failed: ${refreshFailures}`,
    );
    log(`written ${out}`);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await stopAll();
    if (failed) console.error(`Logs of the soak are kept in ${logDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

// `npm run bench [-- --quick] [-- --only <regex>] [-- --rounds N]`: the gateway's cost and the shadows'
// cost, side by side with a bare Worker and nginx's mirror module, in one run on 127.0.0.1. Every
// scenario runs once per round, rounds one after another (A B C … A B C …), and every ratio is the
// median of the ratios taken within each round, with its spread (lib/rounds.ts).
// `npm run bench -- --soak [--minutes N]`: mixed traffic for 20 minutes, workerd's memory over time (soak.ts).
// `npm run bench -- --scale [--quick]`: the evidence ledger under many isolates (scale.ts).
// `npm run bench -- --judge [--runs N] [--threads N] [--only <regex>]`: the verdict's error rates (judge.ts).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { PROFILE_INTERVAL_US } from "./lib/inspector.ts";
import { describeLatency, parseLatency } from "./lib/latency.ts";
import { ledgerWrites } from "./lib/ledger-writes.ts";
import { describeMachine } from "./lib/machine.ts";
import type { LoadSettings, Scenario } from "./lib/measure.ts";
import { measure } from "./lib/measure.ts";
import { NGINX_INSTALL_HINT, type NginxRuntime, nginxVersion, startNginx } from "./lib/nginx.ts";
import { type Origin, startOrigin } from "./lib/origins.ts";
import { deadPort, freePort, killAllNow, stopAll } from "./lib/processes.ts";
import { type CpuProfile, formatSummary, summariseProfile } from "./lib/profile-summary.ts";
import {
  contextLines,
  contextRatios,
  IDS,
  markdownTable,
  type RunRecord,
  type ScenarioResult,
  targetChecks,
  targetLines,
} from "./lib/report.ts";
import { medianResults, spreadOf } from "./lib/rounds.ts";
import { snapshotGateway } from "./lib/snapshot.ts";
import { formatStretches, longStretches } from "./lib/stretches.ts";
import { admin, deployService, type Gateway, startGateway, startPassthrough } from "./lib/wrangler-dev.ts";
import { hasWrk } from "./lib/wrk.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SLOW_SHADOW_MS = 2_000;
const POST_BODY_BYTES = 256 * 1024;
// Open loop at half of what the heaviest set-up (3 shadows) carried flat out: an ordinary load, nothing saturates.
const STEADY_SHARE = 0.5;
const FALLBACK_CAPACITY = 200;
// Above this share of CPU used by processes the bench did not start, a scenario's numbers are suspect.
const BUSY_MACHINE_PCT = 10;
// What a user feels is their own service's latency through the gateway, so the user-felt (f)
// scenarios' main and live shadows answer like a service: log-normal, median 20 ms, σ 0.5 (p99 64 ms,
// 3.2× the median; p99.9 94 ms), the shape of a JSON API in front of a database. An origin that
// answers in 0 ms makes the ratio measure only the isolate's own queueing, which no user feels;
// `--felt-latency 0` measures that version. The closed-loop scenarios keep 0 ms origins: they
// measure the gateway's own cost.
const FELT_LATENCY = "lognormal:20:0.5";

const USAGE = `npm run bench [-- options]: the gateway's cost, side by side with a bare Worker and nginx's mirror

  --quick                 short scenarios (1 s each, no warm-up)
  --rounds N              interleaved rounds (default 3); every ratio is their median
  --only <regex>          only the scenarios whose name matches
  --duration S, --warmup S, --connections N
                          each closed-loop scenario's length, warm-up and connections
  --steady-rate N         the open-loop scenarios' requests per second (default: half of 3 shadows' capacity)
  --felt-latency <shape>  how the user-felt scenarios' origins answer (default ${FELT_LATENCY})
  --profile               a CPU profile of the gateway per scenario, with its long stretches
  --gateway-root <dir>    measure another checkout's gateway
  --results <dir>         where results go (default bench/results)
  --soak [--minutes N]    mixed traffic for N minutes (default 20), workerd's memory every 10 s
  --scale [--quick]       the evidence ledger under many isolates
  --judge [--runs N] [--threads N] [--only <regex>]
                          the verdict's error rates on synthetic paired traffic
  --help                  this text`;

/** The command line, or one line saying what is wrong with it (never a stack trace). */
function parseOptions() {
  try {
    return parseArgs({
      options: {
        help: { type: "boolean", default: false },
        quick: { type: "boolean", default: false },
        scale: { type: "boolean", default: false },
        soak: { type: "boolean", default: false },
        minutes: { type: "string" },
        rounds: { type: "string" },
        // Where results go (default bench/results); created with its parents if missing.
        results: { type: "string" },
        judge: { type: "boolean", default: false },
        runs: { type: "string" },
        threads: { type: "string" },
        duration: { type: "string" },
        warmup: { type: "string" },
        connections: { type: "string", default: "4" },
        only: { type: "string" },
        profile: { type: "boolean", default: false },
        "gateway-root": { type: "string" },
        "steady-rate": { type: "string" },
        // How main and the live shadows of the user-felt (f) scenarios answer: see FELT_LATENCY.
        "felt-latency": { type: "string", default: FELT_LATENCY },
      },
    }).values;
  } catch (error) {
    console.error(`bench: ${(error as Error).message}. See npm run bench -- --help.`);
    process.exit(2);
  }
}

const options = parseOptions();
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}

/** `--results <dir>`, or bench/results in this checkout. */
function resultsDirOf(flag: string | undefined): string {
  return flag ? resolve(flag) : join(root, "bench", "results");
}

if (options.scale) {
  const { runScale } = await import("./scale.ts");
  await runScale({ root, quick: options.quick, resultsDir: resultsDirOf(options.results) });
  process.exit(0);
}

if (options.soak) {
  const { runSoak } = await import("./soak.ts");
  const minutes = options.minutes === undefined ? 20 : Number(options.minutes);
  if (!(minutes > 0)) {
    console.error(`--minutes must be a positive number, got "${options.minutes}"`);
    process.exit(2);
  }
  await runSoak({ root, minutes, resultsDir: resultsDirOf(options.results) });
  process.exit(0);
}

if (options.judge) {
  const { runJudgeBench } = await import("./judge.ts");
  const whole = (raw: string | undefined, fallback: number, flag: string) => {
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < 1) {
      console.error(`--${flag} must be a whole number of at least 1, got "${raw}"`);
      process.exit(2);
    }
    return value;
  };
  const summaries = await runJudgeBench({
    runs: whole(options.runs, 1000, "runs"),
    threads: whole(options.threads, 1, "threads"),
    only: options.only === undefined ? undefined : new RegExp(options.only),
  });
  process.exit(summaries.every((s) => s.met) ? 0 : 1);
}

const positiveNumber = (raw: string | undefined, fallback: number, flag: string): number => {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!(value > 0)) {
    console.error(`--${flag} must be a positive number, got "${raw}"`);
    process.exit(2);
  }
  return value;
};

// --quick checks the harness end to end in a few minutes (30 scenarios × 3 rounds); its numbers are not for quoting.
// The full run: 3 rounds of 24 closed-loop scenarios (1 s + 8 s) and 6 open-loop ones (20 s), about 25 minutes.
const durationS = positiveNumber(options.duration, options.quick ? 1 : 8, "duration");
const steadyDurationS = options.quick ? Math.max(2, durationS) : durationS * 2.5;
const warmupS =
  options.warmup === "0" || (options.quick && options.warmup === undefined)
    ? 0
    : positiveNumber(options.warmup, 1, "warmup");
const roundCount = positiveNumber(options.rounds, 3, "rounds");
const connections = positiveNumber(options.connections, 4, "connections");
const only = options.only === undefined ? undefined : new RegExp(options.only);
// Another checkout (say, a copy with one change) to measure instead of this one's gateway.
const gatewayRoot = options["gateway-root"] ? resolve(options["gateway-root"]) : root;
const feltLatency = (() => {
  try {
    return parseLatency(options["felt-latency"]);
  } catch (error) {
    console.error(`--felt-latency: ${(error as Error).message}`);
    process.exit(2);
  }
})();

const log = (line: string) => console.log(`[bench] ${line}`);

// One rule of each kind, each needed: the shadows answer /json4k-varied with the items reversed and
// float dust on every price, and every answer has its own timestamp and request id (bench/origin.ts).
// So each comparison parses both bodies and walks them under the rules, and finds them the same.
const FIELD_RULES = [
  { path: "body.items", match: "unordered", key: "id" },
  { path: "body.items[].price", match: "number", rel: 1e-6 },
  { path: "body.createdAt", match: "present" },
  { path: "body.requestId", match: "format", format: "uuid" },
];
const JSON_PATH = "/json4k-varied";

async function startRuntimes(workDir: string) {
  mkdirSync(join(workDir, "logs"));
  const logDir = join(workDir, "logs");
  const [main, shadowA, shadowB, shadowC, shadowSlow] = await Promise.all([
    startOrigin("main", 0, logDir),
    startOrigin("shadow-a", 0, logDir),
    startOrigin("shadow-b", 0, logDir),
    startOrigin("shadow-c", 0, logDir),
    startOrigin("shadow-slow", SLOW_SHADOW_MS, logDir),
  ]);
  // The user-felt scenarios' own origins, answering in `--felt-latency`.
  const felt = options["felt-latency"];
  const [feltMain, feltA, feltB, feltC] = await Promise.all([
    startOrigin("felt-main", felt, logDir),
    startOrigin("felt-shadow-a", felt, logDir),
    startOrigin("felt-shadow-b", felt, logDir),
    startOrigin("felt-shadow-c", felt, logDir),
  ]);
  const deadOrigin = `http://127.0.0.1:${await deadPort()}`;
  // Its own port, so that marking it does not mark scenario 6's dead shadow too.
  const markedDeadOrigin = `http://127.0.0.1:${await deadPort()}`;
  log("origins up; starting the gateway and the bare Worker under wrangler dev");

  const [gatewayPort, gatewayInspector, passthroughPort, passthroughInspector, nginxPort, offPort, offInspector] =
    await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const [assetsPort, assetsInspector] = await Promise.all([freePort(), freePort()]);
  const gatewayState = join(workDir, "gateway-state");
  // A second gateway with comparison off, for the on/off ratios; only when one of its scenarios runs.
  const wantsCompareOff =
    only === undefined ||
    [IDS.jsonCompareOff, IDS.slowShadowCompareOff, IDS.steadyJsonCompareOff].some((id) => only.test(id));
  const [gateway, passthrough, passthroughAssets, compareOff] = await Promise.all([
    startGateway({
      root: snapshotGateway(gatewayRoot, join(workDir, "gateway-src"), join(root, "node_modules")),
      port: gatewayPort,
      inspectorPort: gatewayInspector,
      stateDir: gatewayState,
      logDir,
      readable: options.profile,
    }),
    startPassthrough({
      root,
      port: passthroughPort,
      inspectorPort: passthroughInspector,
      stateDir: join(workDir, "passthrough-state"),
      logDir,
      origin: main.url,
    }),
    startPassthrough({
      root,
      port: assetsPort,
      inspectorPort: assetsInspector,
      stateDir: join(workDir, "passthrough-assets-state"),
      logDir,
      origin: main.url,
      variant: { config: "assets.wrangler.toml", label: "passthrough-assets" },
      shadows: [shadowA.url, shadowB.url, shadowSlow.url],
    }),
    wantsCompareOff
      ? startGateway({
          root: snapshotGateway(gatewayRoot, join(workDir, "gateway-off-src"), join(root, "node_modules")),
          port: offPort,
          inspectorPort: offInspector,
          stateDir: join(workDir, "gateway-off-state"),
          logDir,
          vars: { COMPARE_RESPONSES: "off" },
          label: "gateway-compare-off",
          readable: options.profile,
        })
      : undefined,
  ]);

  const groups: Record<string, Origin[]> = {
    solo: [],
    one: [shadowA],
    three: [shadowA, shadowB, shadowC],
    slow: [shadowA, shadowB, shadowSlow],
  };
  for (const [name, shadows] of Object.entries(groups)) {
    await deployService(gateway, { name, version: "1.0.0", origin: main.url, check: true });
    for (const [i, shadow] of shadows.entries()) {
      await deployService(gateway, { name, version: `1.${i + 1}.0`, origin: shadow.url, check: true });
    }
  }
  // Capture for replay: main alone, every request and its answer kept (issue 30's cost bound).
  await deployGroup(gateway, "capture", main, []);
  await admin(gateway, "PUT", "/services/capture/policy", { capture: { percent: 100 } });
  await deployService(gateway, { name: "dead", version: "1.0.0", origin: main.url, check: true });
  await deployService(gateway, { name: "dead", version: "1.1.0", origin: deadOrigin, check: false });

  // A group compared under the four field rules, without noise copies, on the gateway and on its twin with comparison off.
  const deployCompared = async (name: string, mainOrigin: Origin, shadows: Origin[]) => {
    for (const g of compareOff ? [gateway, compareOff] : [gateway]) {
      await deployGroup(g, name, mainOrigin, shadows);
      await admin(g, "PUT", `/services/${name}/policy`, { noisePercent: 0, rules: FIELD_RULES });
    }
  };
  // Comparison: 3 shadows answering the same 4 KiB JSON as main, without and with noise copies.
  const three = [shadowA, shadowB, shadowC];
  await deployCompared("json3", main, three);
  // The slow group without comparison: mirroring's own cost, against the bare Worker sending the same copies.
  if (compareOff) await deployGroup(compareOff, "slow", main, [shadowA, shadowB, shadowSlow]);
  await deployGroup(gateway, "json3noise", main, three);
  await admin(gateway, "PUT", "/services/json3noise/policy", { noisePercent: 5, rules: FIELD_RULES });
  // Traffic controls: 3 shadows at 10 %, and a dead shadow the health probe has marked.
  await deployGroup(gateway, "tenpct", main, three, 10);
  await deployService(gateway, { name: "canary", version: "1.0.0", origin: main.url, check: true });
  await deployService(gateway, {
    name: "canary",
    version: "1.1.0",
    origin: shadowA.url,
    check: true,
    canaryPercent: 20,
  });
  // The user-felt scenarios' services: as solo, three, slow and canary, on origins that answer like a service.
  await deployGroup(gateway, "fsolo", feltMain, []);
  await deployGroup(gateway, "fthree", feltMain, [feltA, feltB, feltC]);
  await deployGroup(gateway, "fslow", feltMain, [feltA, feltB, shadowSlow]);
  await deployCompared("fjson3", feltMain, [feltA, feltB, feltC]);
  await deployService(gateway, { name: "fcanary", version: "1.0.0", origin: feltMain.url, check: true });
  await deployService(gateway, {
    name: "fcanary",
    version: "1.1.0",
    origin: feltA.url,
    check: true,
    canaryPercent: 20,
  });
  await deployService(gateway, { name: "deadmarked", version: "1.0.0", origin: main.url, check: true });
  await deployService(gateway, { name: "deadmarked", version: "1.1.0", origin: markedDeadOrigin, check: false });
  await markByProbe(gateway, "deadmarked", "1.1.0", "unreachable");

  const nginxAt = await nginxVersion();
  let nginx: NginxRuntime | undefined;
  if (nginxAt) {
    nginx = await startNginx(
      {
        port: nginxPort,
        prefixDir: join(workDir, "nginx"),
        main: main.url,
        routes: Object.entries(groups).map(([name, shadows]) => ({
          prefix: `/${name}/`,
          shadows: shadows.map((s) => s.url),
        })),
      },
      logDir,
    );
  } else {
    log(`nginx is not on PATH; skipping its scenarios. ${NGINX_INSTALL_HINT}`);
  }
  return {
    origins: { main, shadowA, shadowB, shadowC, shadowSlow, feltMain, feltA, feltB, feltC },
    gateway,
    gatewayState,
    compareOff,
    passthrough,
    passthroughAssets,
    nginx,
    nginxAt,
  };
}

/** Main at `main`, then one shadow per origin, each mirroring `percent` of requests. */
async function deployGroup(gateway: Gateway, name: string, main: Origin, shadows: Origin[], percent = 100) {
  await deployService(gateway, { name, version: "1.0.0", origin: main.url, check: true });
  for (const [i, shadow] of shadows.entries()) {
    await admin(gateway, "POST", "/services", {
      name,
      version: `1.${i + 1}.0`,
      origin: shadow.url,
      check: true,
      mirrorPercent: percent,
    });
  }
}

/** Fires the gateway's health probe (as its cron would) until the version has the status. */
async function markByProbe(gateway: Gateway, name: string, version: string, status: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await (await fetch(`${gateway.url}/cdn-cgi/local/scheduled`)).arrayBuffer();
    const { services } = (await admin(gateway, "GET", `/services/${name}`, undefined)) as {
      services: { version: string; status: string }[];
    };
    if (services.find((s) => s.version === version)?.status === status) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`The health probe did not mark ${name} ${version} ${status} within 30 s`);
}

function scenarioList(runtimes: Awaited<ReturnType<typeof startRuntimes>>, rounds: ScenarioResult[][]): Scenario[] {
  const { origins, gateway, gatewayState, compareOff, passthrough, passthroughAssets, nginx } = runtimes;
  const { main, shadowA, shadowB, shadowC, shadowSlow, feltMain, feltA, feltB, feltC } = origins;
  // The open-loop scenarios run at half of what the gateway with 3 shadows carried flat out in this
  // run (the median over the closed-loop rounds, which all run first), the same rate in every round.
  let rate: number | undefined;
  const steadyRate = () => {
    if (options["steady-rate"]) return Number(options["steady-rate"]);
    if (rate === undefined) {
      const capacity = spreadOf(rounds.flat().flatMap((r) => (r.id === IDS.threeShadows ? [r.rps] : [])))?.median;
      rate = Math.max(1, Math.round((capacity ?? FALLBACK_CAPACITY) * STEADY_SHARE));
      if (capacity === undefined) log(`3 shadows' capacity not measured in this run; open loop at ${rate} req/s`);
    }
    return rate;
  };
  const base = { main, bodyBytes: 0, shadowDelayMs: 0 };
  const viaGateway = (g: Gateway) => ({
    ...base,
    target: "gateway" as const,
    processes: g.processes,
    inspectorPort: g.inspectorPort,
    sourceRoot: g.sourceRoot,
  });
  // The user-felt (f) scenarios: main and the live shadows answer in --felt-latency.
  const felt = { main: feltMain };
  const feltText = `main and live shadows ${describeLatency(feltLatency)}`;
  const viaBareAssets = {
    ...base,
    target: "bare-worker" as const,
    processes: passthroughAssets.processes,
    inspectorPort: passthroughAssets.inspectorPort,
    sourceRoot: passthroughAssets.sourceRoot,
  };
  const list: Scenario[] = [
    {
      ...base,
      id: IDS.direct,
      name: "1 direct to origin",
      target: "origin",
      url: `${main.url}/bench`,
      shadows: 0,
      liveShadows: [],
      processes: () => [],
    },
    {
      ...base,
      id: IDS.bareWorker,
      name: "2 bare pass-through Worker",
      target: "bare-worker",
      url: `${passthrough.url}/bench`,
      shadows: 0,
      liveShadows: [],
      processes: passthrough.processes,
      inspectorPort: passthrough.inspectorPort,
      sourceRoot: passthrough.sourceRoot,
    },
    {
      ...viaBareAssets,
      id: IDS.bareWorkerAssets,
      name: "2b bare Worker, gateway's assets set-up",
      url: `${passthroughAssets.url}/bench`,
      shadows: 0,
      liveShadows: [],
    },
    {
      ...viaGateway(gateway),
      id: IDS.pinned,
      name: "3 gateway pinned /services/three_1.0.0/",
      url: `${gateway.url}/services/three_1.0.0/bench`,
      shadows: 0,
      liveShadows: [],
    },
    {
      ...viaGateway(gateway),
      id: IDS.noShadows,
      name: "4a gateway /services/solo/, no shadows",
      url: `${gateway.url}/services/solo/bench`,
      shadows: 0,
      liveShadows: [],
    },
    {
      ...viaGateway(gateway),
      id: IDS.captureAll,
      name: "4e gateway /services/capture/, no shadows, capturing 100 % for replay",
      url: `${gateway.url}/services/capture/bench`,
      shadows: 0,
      liveShadows: [],
    },
    // The traffic-control scenarios run beside the no-shadow one they are compared with: wrangler dev's
    // workerd grows with every request it serves, so ratios of scenarios far apart in a run drift.
    {
      ...viaGateway(gateway),
      id: IDS.tenPercent,
      name: "10a gateway, 3 shadows at 10 %",
      url: `${gateway.url}/services/tenpct/bench`,
      shadows: 3,
      // Copies delivered then reads about 10 %.
      liveShadows: [shadowA, shadowB, shadowC],
    },
    {
      ...viaGateway(gateway),
      id: IDS.deadMarked,
      name: "10b gateway, 1 dead shadow the probe marked unreachable",
      url: `${gateway.url}/services/deadmarked/bench`,
      shadows: 1,
      liveShadows: [],
    },
    {
      ...viaGateway(gateway),
      id: IDS.deadShadow,
      name: "6 gateway, 1 dead shadow",
      url: `${gateway.url}/services/dead/bench`,
      shadows: 1,
      liveShadows: [],
    },
    {
      ...viaGateway(gateway),
      id: IDS.oneShadow,
      name: "4b gateway, 1 shadow",
      url: `${gateway.url}/services/one/bench`,
      shadows: 1,
      liveShadows: [shadowA],
    },
    {
      ...viaGateway(gateway),
      id: IDS.canary,
      name: "4d gateway, 1 shadow answering 20 % as a canary",
      url: `${gateway.url}/services/canary/bench`,
      shadows: 1,
      liveShadows: [shadowA],
    },
    {
      ...viaGateway(gateway),
      id: IDS.threeShadows,
      name: "4c gateway, 3 shadows",
      url: `${gateway.url}/services/three/bench`,
      shadows: 3,
      liveShadows: [shadowA, shadowB, shadowC],
    },
    {
      ...viaGateway(gateway),
      id: IDS.slowShadow,
      name: "5 gateway, 3 shadows, one at 2 s",
      url: `${gateway.url}/services/slow/bench`,
      shadows: 3,
      shadowDelayMs: SLOW_SHADOW_MS,
      liveShadows: [shadowA, shadowB, shadowSlow],
    },
    {
      ...viaBareAssets,
      id: IDS.bareMirrorSlow,
      name: "2c bare Worker (assets set-up) copying to 3 shadows, one at 2 s",
      url: `${passthroughAssets.url}/mirror/bench`,
      shadows: 3,
      shadowDelayMs: SLOW_SHADOW_MS,
      liveShadows: [shadowA, shadowB, shadowSlow],
    },
    ...(compareOff
      ? [
          {
            ...viaGateway(compareOff),
            id: IDS.slowShadowCompareOff,
            name: "5b gateway, 3 shadows, one at 2 s, COMPARE_RESPONSES=off",
            url: `${compareOff.url}/services/slow/bench`,
            shadows: 3,
            shadowDelayMs: SLOW_SHADOW_MS,
            liveShadows: [shadowA, shadowB, shadowSlow],
          },
        ]
      : []),
    {
      ...viaBareAssets,
      id: IDS.steadyBare,
      name: "2b′ bare Worker (assets set-up), open loop",
      url: `${passthroughAssets.url}/bench`,
      shadows: 0,
      liveShadows: [],
      steadyRate,
    },
    {
      ...viaBareAssets,
      id: IDS.steadyBareMirrorSlow,
      name: "2c′ bare Worker copying to 3 shadows, one at 2 s, open loop",
      url: `${passthroughAssets.url}/mirror/bench`,
      shadows: 3,
      shadowDelayMs: SLOW_SHADOW_MS,
      liveShadows: [shadowA, shadowB, shadowSlow],
      steadyRate,
    },
    {
      ...viaGateway(gateway),
      ...felt,
      id: IDS.steadyNoShadows,
      name: `4a′ gateway, no shadows, open loop, ${feltText}`,
      url: `${gateway.url}/services/fsolo/bench`,
      shadows: 0,
      liveShadows: [],
      steadyRate,
    },
    {
      ...viaGateway(gateway),
      ...felt,
      id: IDS.steadyThreeShadows,
      name: `4c′ gateway, 3 shadows, open loop, ${feltText}`,
      url: `${gateway.url}/services/fthree/bench`,
      shadows: 3,
      liveShadows: [feltA, feltB, feltC],
      steadyRate,
    },
    {
      ...viaGateway(gateway),
      ...felt,
      id: IDS.steadySlowShadow,
      name: `5′ gateway, 3 shadows, one at 2 s, open loop, ${feltText}`,
      url: `${gateway.url}/services/fslow/bench`,
      shadows: 3,
      shadowDelayMs: SLOW_SHADOW_MS,
      liveShadows: [feltA, feltB, shadowSlow],
      steadyRate,
    },
    {
      ...viaGateway(gateway),
      ...felt,
      id: IDS.steadyCanary,
      name: `4d′ gateway, 1 shadow answering 20 % as a canary, open loop, ${feltText}`,
      url: `${gateway.url}/services/fcanary/bench`,
      shadows: 1,
      liveShadows: [feltA],
      steadyRate,
    },
    {
      ...viaGateway(gateway),
      ...felt,
      id: IDS.steadyJsonCompare,
      name: `9a′ gateway 4 KiB JSON, 3 shadows, comparison on, 4 field rules, open loop, ${feltText}`,
      url: `${gateway.url}/services/fjson3${JSON_PATH}`,
      shadows: 3,
      liveShadows: [feltA, feltB, feltC],
      steadyRate,
    },
    ...(compareOff
      ? [
          {
            ...viaGateway(compareOff),
            ...felt,
            id: IDS.steadyJsonCompareOff,
            name: `9b′ gateway 4 KiB JSON, 3 shadows, COMPARE_RESPONSES=off, open loop, ${feltText}`,
            url: `${compareOff.url}/services/fjson3${JSON_PATH}`,
            shadows: 3,
            liveShadows: [feltA, feltB, feltC],
            steadyRate,
          },
        ]
      : []),
    {
      ...viaGateway(gateway),
      id: IDS.postNoShadows,
      name: "7a gateway POST 256 KiB, no shadows",
      url: `${gateway.url}/services/solo/bench`,
      shadows: 0,
      bodyBytes: POST_BODY_BYTES,
      liveShadows: [],
    },
    {
      ...viaGateway(gateway),
      id: IDS.postThreeShadows,
      name: "7 gateway POST 256 KiB, 3 shadows",
      url: `${gateway.url}/services/three/bench`,
      shadows: 3,
      bodyBytes: POST_BODY_BYTES,
      liveShadows: [shadowA, shadowB, shadowC],
    },
    {
      ...viaGateway(gateway),
      id: IDS.jsonCompare,
      name: "9a gateway 4 KiB JSON, 3 shadows, comparison on, 4 field rules",
      url: `${gateway.url}/services/json3${JSON_PATH}`,
      shadows: 3,
      liveShadows: [shadowA, shadowB, shadowC],
      ledgerWrites: () => ledgerWrites(gatewayState),
    },
    ...(compareOff
      ? [
          {
            ...viaGateway(compareOff),
            id: IDS.jsonCompareOff,
            name: "9b gateway 4 KiB JSON, 3 shadows, COMPARE_RESPONSES=off",
            url: `${compareOff.url}/services/json3${JSON_PATH}`,
            shadows: 3,
            liveShadows: [shadowA, shadowB, shadowC],
          },
        ]
      : []),
    {
      ...viaGateway(gateway),
      id: IDS.jsonNoise,
      name: "9c gateway 4 KiB JSON, 3 shadows, comparison, 4 field rules and 5 % noise copies",
      url: `${gateway.url}/services/json3noise${JSON_PATH}`,
      shadows: 3,
      liveShadows: [shadowA, shadowB, shadowC],
      ledgerWrites: () => ledgerWrites(gatewayState),
    },
  ];
  if (nginx) {
    const viaNginx = { ...base, target: "nginx" as const, processes: nginx.processes };
    list.push(
      {
        ...viaNginx,
        id: IDS.nginxProxy,
        name: "8/1 nginx proxy",
        url: `${nginx.url}/solo/bench`,
        shadows: 0,
        liveShadows: [],
      },
      {
        ...viaNginx,
        id: IDS.nginxOneMirror,
        name: "8/4 nginx mirror, 1 shadow",
        url: `${nginx.url}/one/bench`,
        shadows: 1,
        liveShadows: [shadowA],
      },
      {
        ...viaNginx,
        id: IDS.nginxThreeMirrors,
        name: "8/4 nginx mirror, 3 shadows",
        url: `${nginx.url}/three/bench`,
        shadows: 3,
        liveShadows: [shadowA, shadowB, shadowC],
      },
      {
        ...viaNginx,
        id: IDS.nginxSlowMirror,
        name: "8/5 nginx mirror, 3 shadows, one at 2 s",
        url: `${nginx.url}/slow/bench`,
        shadows: 3,
        shadowDelayMs: SLOW_SHADOW_MS,
        liveShadows: [shadowA, shadowB, shadowSlow],
      },
    );
  }
  return only ? list.filter((s) => only.test(s.id)) : list;
}

const resultsDir = resultsDirOf(options.results);

/** Writes the raw profile (open it in DevTools) and prints where the Worker's time went. */
function saveProfile(scenario: Scenario, profile: CpuProfile, requests: number): void {
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${scenario.id}.cpuprofile`);
  writeFileSync(path, JSON.stringify(profile));
  const bundles = scenario.sourceRoot ? wranglerBundles(scenario.sourceRoot) : [];
  const text = formatSummary(
    summariseProfile(profile, PROFILE_INTERVAL_US, (url) => readBundle(url, bundles)),
    requests,
  );
  const busy = profile.samples.length - profile.samples.filter((id) => idleIds(profile).has(id)).length;
  const stretches = [5, 20]
    .map((ms) => formatStretches(longStretches(profile, PROFILE_INTERVAL_US, ms), busy, PROFILE_INTERVAL_US))
    .join("\n");
  writeFileSync(join(resultsDir, `${scenario.id}.profile.txt`), `${text}\n${stretches}\n`);
  log(`CPU profile of ${scenario.name} in ${path}\n${text}\n${stretches}`);
}

const idleIds = (profile: CpuProfile) =>
  new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));

/** The bundles wrangler dev is serving, newest first (it names the script "index.js" in profiles). */
function wranglerBundles(sourceRoot: string): string[] {
  const tmp = join(sourceRoot, ".wrangler", "tmp");
  try {
    return readdirSync(tmp)
      .map((dir) => join(tmp, dir, "index.js"))
      .filter((path) => existsSync(path))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  } catch {
    return [];
  }
}

function readBundle(url: string, bundles: string[]): string | undefined {
  const path = url.startsWith("file:") ? fileURLToPath(url) : url === "index.js" ? bundles[0] : url;
  try {
    return path ? readFileSync(path, "utf8") : undefined;
  } catch {
    return undefined;
  }
}

function logResult(round: string, scenario: Scenario, result: ScenarioResult): void {
  const busy =
    result.otherLoadPct > BUSY_MACHINE_PCT
      ? ` (other processes used ${result.otherLoadPct.toFixed(0)} % of the CPU)`
      : "";
  log(
    `${round} ${scenario.name}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ${result.errors} errors${busy}`,
  );
}

// Removed on Ctrl-C too; an interrupted run's logs are of no use.
let interruptedWorkDir: string | undefined;

async function main(): Promise<void> {
  if (!(await hasWrk())) {
    console.error("wrk is not on PATH; install it first: apt-get install wrk (Debian/Ubuntu) or brew install wrk");
    process.exitCode = 1;
    return;
  }
  const workDir = mkdtempSync(join(tmpdir(), "daeploy-bench-"));
  interruptedWorkDir = workDir;
  let failed = false;
  try {
    const runtimes = await startRuntimes(workDir);
    const load: LoadSettings = {
      durationS,
      steadyDurationS,
      warmupS,
      connections,
      timeoutS: 10,
      allOrigins: Object.values(runtimes.origins),
      onProfile: options.profile ? saveProfile : undefined,
    };
    const rounds: ScenarioResult[][] = [];
    const scenarios = scenarioList(runtimes, rounds);
    // Closed-loop rounds first: the open-loop ones run at a rate taken from them.
    const closed = scenarios.filter((s) => s.steadyRate === undefined);
    const open = scenarios.filter((s) => s.steadyRate !== undefined);
    log(
      `${scenarios.length} scenarios × ${roundCount} interleaved rounds: ${closed.length} closed-loop at ${durationS} s after ${warmupS} s of warm-up (${connections} connections), then ${open.length} open-loop at ${steadyDurationS} s`,
    );
    for (const group of [closed, open]) {
      for (let round = 0; round < roundCount; round++) {
        const results: ScenarioResult[] = [];
        for (const scenario of group) {
          const result = await measure(scenario, load);
          results.push(result);
          logResult(`round ${round + 1}/${roundCount}`, scenario, result);
        }
        // An open-loop round joins the closed-loop round of the same number: a ratio is taken within it.
        const joined = group === closed ? undefined : rounds[round];
        if (joined) joined.push(...results);
        else rounds.push(results);
      }
    }
    const results = medianResults(rounds);
    const steadyRate = open.length > 0 ? (open[0]?.steadyRate?.() ?? null) : null;

    const record: RunRecord = {
      machine: describeMachine({
        root: gatewayRoot,
        workerdPid: runtimes.gateway.processes().find((p) => p.label.startsWith("workerd"))?.pid,
        nginx: runtimes.nginxAt ?? null,
        load: `wrk, 1 thread, ${connections} keep-alive connections, ${durationS} s per scenario after ${warmupS} s warm-up; open loop at ${steadyRate ?? "–"} req/s for ${steadyDurationS} s, (f) origins ${describeLatency(feltLatency)}; ${roundCount} interleaved rounds`,
      }),
      mode: options.quick ? "quick" : "full",
      startedAt: new Date().toISOString(),
      scenarios: results,
      rounds,
      steadyRate,
      targets: targetChecks(rounds),
    };
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, "latest.json"), `${JSON.stringify(record, null, 2)}\n`);

    const m = record.machine;
    console.log(
      `\n${m.cores} × ${m.cpuModel}, Node ${m.node}, wrangler ${m.wrangler}, ${m.workerd}, nginx ${m.nginx ?? "–"}`,
    );
    console.log(`${m.load}; gateway at ${m.gateway}\n`);
    console.log(markdownTable(results));
    console.log(
      `\nTargets (each the median of the ratios within ${roundCount} rounds, with their range):\n${targetLines(record.targets)}`,
    );
    console.log(`\nContext:\n${contextLines(contextRatios(rounds))}`);
    const disturbed = rounds.flat().filter((r) => r.otherLoadPct > BUSY_MACHINE_PCT).length;
    if (disturbed > 0) {
      console.log(
        `\n${disturbed} of ${rounds.flat().length} runs ran while other processes used over ${BUSY_MACHINE_PCT} % of the CPU; rerun on a quiet machine before quoting absolute numbers (the interleaved ratios share the load).`,
      );
    }
    console.log(`\nWritten to ${join(resultsDir, "latest.json")}`);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await stopAll();
    if (failed) console.error(`Logs of the run are kept in ${join(workDir, "logs")}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`\n[bench] ${signal}: stopping everything the bench started`);
    stopAll().finally(() => {
      if (interruptedWorkDir) rmSync(interruptedWorkDir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}
process.on("exit", killAllNow);

main().catch((error: unknown) => {
  console.error(`[bench] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});

// The two Workers under test, each run by `wrangler dev` on the same workerd:
// the gateway exactly as `npm run dev` starts it, and the bare pass-through Worker.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { startGateway as launchGateway } from "../../scripts/gateway.ts";
import { processTree, type RuntimeProcess, readCmdline } from "./proc-stats.ts";
import { adoptProcess, type Started, startProcess, waitForHttp } from "./processes.ts";

export interface WorkerdRuntime {
  url: string;
  /** wrangler's inspector (DevTools protocol), for CPU profiles of the Worker. */
  inspectorPort: number;
  /** The directory of the Worker's wrangler config; wrangler dev bundles into its .wrangler/tmp. */
  sourceRoot: string;
  process: Started;
  processes(): RuntimeProcess[];
}

export interface Gateway extends WorkerdRuntime {
  adminToken: string;
}

const wranglerBin = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);
const quietEnv = { ...process.env, WRANGLER_SEND_METRICS: "false" };
// wrangler's Node process prints one line per request at the default level, which
// costs it about 0.8 ms of CPU per request on this class of machine, taken from the
// same two cores as workerd. Production has no such line, so both Workers run without it.
const wranglerLogLevel = ["--log-level", "warn"];

/**
 * The runtime is workerd: wrangler dev runs two, its dev proxy (listening on our
 * port) and the one running the Worker. wrangler's own Node process is listed in
 * the breakdown, not counted: it prints the Worker's console.log lines.
 */
function wranglerProcesses(started: Started, port: number): RuntimeProcess[] {
  return processTree(started.pid).flatMap(({ pid, comm }): RuntimeProcess[] => {
    const cmdline = readCmdline(pid);
    if (comm === "workerd") {
      const label = cmdline.includes(`entry=127.0.0.1:${port}`) ? "workerd-dev-proxy" : "workerd-worker";
      return [{ pid, label, counted: true }];
    }
    if (comm === "node" && cmdline.includes("wrangler-dist/cli.js"))
      return [{ pid, label: "wrangler-node", counted: false }];
    return [];
  });
}

/** The default route-cache TTL, as wrangler.toml ships it, so a gateway root's own settings cannot skew the run. */
export function defaultRoutesCacheTtlMs(root: string): string {
  const match = /^ROUTES_CACHE_TTL_MS\s*=\s*"(\d+)"/m.exec(readFileSync(join(root, "wrangler.toml"), "utf8"));
  if (!match?.[1]) throw new Error("wrangler.toml has no ROUTES_CACHE_TTL_MS in [vars]");
  return match[1];
}

/** Not a secret: the gateway lives for one run, on 127.0.0.1. */
const BENCH_ADMIN_TOKEN = "bench-token";

/** The gateway as `npm run dev` runs it (cron included), through the launcher the tests use too. */
export async function startGateway(options: {
  root: string;
  port: number;
  inspectorPort: number;
  stateDir: string;
  logDir: string;
  /** More `[vars]`, say COMPARE_RESPONSES = "off" for a second gateway. */
  vars?: Record<string, string>;
  /** Names this gateway's log file and process, when a run starts more than one. */
  label?: string;
  /** Bundle without minifying, so a CPU profile names the gateway's functions (wrangler.toml minifies). */
  readable?: boolean;
}): Promise<Gateway> {
  const { root, port, inspectorPort, stateDir, logDir } = options;
  const label = options.label ?? "gateway";
  const logPath = join(logDir, `${label}.log`);
  const gateway = await launchGateway({
    root,
    port,
    inspectorPort,
    stateDir,
    token: BENCH_ADMIN_TOKEN,
    cron: true,
    vars: { ROUTES_CACHE_TTL_MS: defaultRoutesCacheTtlMs(root), ...options.vars },
    wranglerArgs: [
      ...wranglerLogLevel,
      ...(options.readable ? ["--minify=false"] : []),
      // The gateway with ledgers that count their batches, which the bench reads (lib/ledger-writes.ts).
      join(root, "bench", "counted-gateway", "worker.ts"),
    ],
    logPath,
  });
  const started = adoptProcess(label, gateway.child, logPath);
  return {
    url: gateway.url,
    inspectorPort,
    sourceRoot: root,
    process: started,
    adminToken: gateway.token,
    processes: () => wranglerProcesses(started, port),
  };
}

export async function startPassthrough(options: {
  root: string;
  port: number;
  inspectorPort: number;
  stateDir: string;
  logDir: string;
  origin: string;
  /** Another wrangler config in bench/passthrough/ for the same Worker, and the process label it runs under. */
  variant?: { config: string; label: string };
  /** Origins that requests under /mirror/ are copied to (see bench/passthrough/worker.ts). */
  shadows?: string[];
}): Promise<WorkerdRuntime> {
  const { root, port, inspectorPort, stateDir, logDir, origin, variant, shadows = [] } = options;
  const started = startProcess(
    variant?.label ?? "passthrough",
    process.execPath,
    [
      wranglerBin,
      "dev",
      "--config",
      join(root, "bench", "passthrough", variant?.config ?? "wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      stateDir,
      "--var",
      `ORIGIN:${origin}`,
      ...(shadows.length > 0 ? ["--var", `SHADOWS:${shadows.join(",")}`] : []),
      "--inspector-port",
      String(inspectorPort),
      "--show-interactive-dev-session=false",
      ...wranglerLogLevel,
    ],
    { cwd: root, env: quietEnv, logDir },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, started, 90_000, {}, (r) => r.ok);
  return {
    url,
    inspectorPort,
    sourceRoot: join(root, "bench", "passthrough"),
    process: started,
    processes: () => wranglerProcesses(started, port),
  };
}

/** The ledger load generator of `--scale` (bench/scale/): the gateway's EvidenceLedger behind a small Worker. */
export async function startScaleWorker(options: {
  root: string;
  port: number;
  stateDir: string;
  logDir: string;
}): Promise<{ url: string; process: Started; processes(): RuntimeProcess[] }> {
  const { root, port, stateDir, logDir } = options;
  const started = startProcess(
    "ledger-scale",
    process.execPath,
    [
      wranglerBin,
      "dev",
      "--config",
      join(root, "bench", "scale", "wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      stateDir,
      "--show-interactive-dev-session=false",
      ...wranglerLogLevel,
    ],
    { cwd: root, env: quietEnv, logDir },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, started, 90_000, {}, (r) => r.ok);
  return { url, process: started, processes: () => wranglerProcesses(started, port) };
}

/** One admin API call, its JSON answer; a refusal stops the run with the API's answer. */
export async function admin(gateway: Gateway, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${gateway.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${gateway.adminToken}`, "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} failed: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** Registers one version through the admin API, as `daeploy-edge deploy` would. */
export async function deployService(
  gateway: Gateway,
  service: { name: string; version: string; origin: string; check: boolean; canaryPercent?: number },
): Promise<void> {
  const response = await fetch(`${gateway.url}/api/v1/services`, {
    method: "POST",
    headers: { authorization: `Bearer ${gateway.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(service),
  });
  if (response.status !== 201) {
    throw new Error(`Deploying ${service.name} ${service.version} failed: ${response.status} ${await response.text()}`);
  }
}

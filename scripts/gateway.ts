// One launcher for a throwaway gateway: `npm run dev` (scripts/dev.mjs) on a port of its own, with its
// own local D1 and the admin token it is given. The cli and e2e test projects and the bench all use it.
// The token goes into an env file beside the state, so nothing is written into the checkout.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports.ts";

export interface GatewayOptions {
  /** Admin token the gateway accepts. */
  token: string;
  /** Holds the local D1, the Durable Object state and the env file; nothing else is written. */
  stateDir: string;
  /** Where scripts/dev.mjs, wrangler.toml and worker/ live; this checkout by default. */
  root?: string;
  /** A free one is picked when left out. */
  port?: number;
  inspectorPort?: number;
  /** Fire the health probe once a minute, as `npm run dev` does. Off by default: a test fires it when it wants. */
  cron?: boolean;
  /** More `[vars]` for this gateway, over wrangler.toml's. */
  vars?: Record<string, string>;
  /** More arguments for `wrangler dev`. */
  wranglerArgs?: string[];
  /** Also write the gateway's output to this file (it is kept in memory for error messages either way). */
  logPath?: string;
  readyTimeoutMs?: number;
  /** Start it as users do, `npm run dev -- …`, so `pid` is npm's; else `node scripts/dev.mjs …`. */
  viaNpm?: boolean;
}

export interface RunningGateway {
  url: string;
  token: string;
  port: number;
  /** The leader of the gateway's process group (dev.mjs, or npm; wrangler and workerd run under it). */
  pid: number;
  child: ChildProcess;
  /** Everything the gateway printed so far. */
  log(): string;
  /** SIGTERM to the whole group, then SIGKILL: nothing of it survives. */
  stop(): Promise<void>;
}

const checkout = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Signals a whole process group (wrangler and its workerd children); a group already gone is fine. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** Whether `child` exits within `timeoutMs`. */
export function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts the gateway. A port picked here is only free when picked: another process (a parallel test
 * project's gateway, workerd's own sockets) can bind it first, so on "Address already in use" it is
 * started again on another, up to three times in all.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, options.port ?? (await freePort()));
    } catch (error) {
      const taken = error instanceof Error && /Address already in use|is in use \(another/.test(error.message);
      if (!taken || options.port !== undefined || attempt === 3) throw error;
    }
  }
}

async function startOnce(options: GatewayOptions, port: number): Promise<RunningGateway> {
  const root = options.root ?? checkout;
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  await mkdir(options.stateDir, { recursive: true });
  const envFile = join(options.stateDir, "gateway.env");
  const vars = { ...options.vars, ADMIN_TOKEN: options.token };
  await writeFile(
    envFile,
    Object.entries(vars).map(([key, value]) => `${key}=${JSON.stringify(value)}\n`),
    {
      mode: 0o600,
    },
  );

  const devArgs = [
    "--port",
    String(port),
    "--persist-to",
    join(options.stateDir, "wrangler-state"),
    "--env-file",
    envFile,
    ...(options.inspectorPort === undefined ? [] : ["--inspector-port", String(options.inspectorPort)]),
    ...(options.cron ? [] : ["--no-cron"]),
    ...(options.wranglerArgs ?? []),
  ];
  const [command, args] = options.viaNpm
    ? ["npm", ["run", "dev", "--", ...devArgs]]
    : [process.execPath, [join(root, "scripts", "dev.mjs"), ...devArgs]];
  // Its own process group, so that stop() reaches wrangler and workerd too.
  const child = spawn(command, args, {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", WRANGLER_SEND_METRICS: "false" },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`Could not start ${command} ${args.join(" ")}`);
  const file = options.logPath ? createWriteStream(options.logPath) : undefined;
  let log = "";
  const keep = (chunk: Buffer) => {
    log += chunk.toString("utf8");
    file?.write(chunk);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.on("exit", () => file?.end());

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    signalGroup(pid, "SIGTERM");
    if (!(await exited(child, 5_000))) signalGroup(pid, "SIGKILL");
    // workerd may outlive its parent for a moment.
    signalGroup(pid, "SIGKILL");
  };
  const gateway: RunningGateway = { url, token: options.token, port, pid, child, log: () => log, stop };

  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`The gateway exited with code ${child.exitCode} before it answered:\n${log}`);
    }
    try {
      const response = await fetch(`${url}/api/v1/services`, {
        headers: { authorization: `Bearer ${options.token}` },
        signal: AbortSignal.timeout(2_000),
      });
      await response.arrayBuffer();
      if (response.ok) return gateway;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop();
  throw new Error(`The gateway did not answer at ${url} within ${readyTimeoutMs} ms:\n${log}`);
}

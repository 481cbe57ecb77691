import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { deadPort, startOrigin } from "../../worker/test/support/origins.ts";

declare module "vitest" {
  export interface ProvidedContext {
    cliWorld: {
      /** The built CLI, as `npx daeploy-edge` runs it. */
      cliPath: string;
      gateway: { url: string; token: string };
      origins: { v1: string; v2: string; dead: string };
      /** Temporary homes and files of this run; removed at teardown. */
      scratchDir: string;
    };
  }
}

const root = join(import.meta.dirname, "..", "..");
const READY_TIMEOUT_MS = 90_000;

/** A port nobody listens on right now; wrangler dev takes it a moment later. */
const freePort = deadPort;

/** `node scripts/dev.mjs`, exactly as a user runs `npm run dev`, in its own process group so teardown can end all of it. */
function startGateway(port: number, persistTo: string, inspectorPort: number) {
  const child = spawn(
    process.execPath,
    ["scripts/dev.mjs", "--port", String(port), "--persist-to", persistTo, "--inspector-port", String(inspectorPort)],
    { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
  );
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  return { child, log: () => log };
}

async function waitUntilReady(url: string, token: string, gateway: ReturnType<typeof startGateway>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (gateway.child.exitCode !== null) throw new Error(`the gateway exited early:\n${gateway.log()}`);
    try {
      const response = await fetch(`${url}/api/v1/services`, { headers: { Authorization: `Bearer ${token}` } });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the gateway did not answer within ${READY_TIMEOUT_MS} ms:\n${gateway.log()}`);
}

/** SIGTERM to the whole group (dev.mjs, wrangler, workerd), then SIGKILL if anything is still there. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  signalGroup("SIGTERM");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  // workerd may outlive its parent for a moment; nothing of the group may survive the run.
  signalGroup("SIGKILL");
}

export default async function setup(project: TestProject) {
  // Test what users run: a fresh build of dist/cli.mjs, never a stale one.
  execFileSync(process.execPath, [join(root, "scripts", "build-cli.mjs")], { stdio: "inherit" });

  const scratchDir = await mkdtemp(join(tmpdir(), "daeploy-edge-cli-"));
  const persistTo = join(scratchDir, "gateway-state");
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const gateway = startGateway(port, persistTo, inspectorPort);
  const [v1, v2] = await Promise.all([startOrigin({ version: "1.0.0" }), startOrigin({ version: "2.0.0" })]);

  const teardown = async () => {
    await stopGroup(gateway.child);
    await Promise.all([v1.close(), v2.close()]);
    await rm(scratchDir, { recursive: true, force: true });
  };

  try {
    const url = `http://127.0.0.1:${port}`;
    // dev.mjs prints the admin token it configured (from .dev.vars); wait for that line.
    const token = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no admin token line:\n${gateway.log()}`)), READY_TIMEOUT_MS);
      const look = () => {
        const match = /\(admin token: ([^)\s]+)\)/.exec(gateway.log());
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        } else setTimeout(look, 50);
      };
      look();
    });
    await waitUntilReady(url, token, gateway);
    project.provide("cliWorld", {
      cliPath: join(root, "dist", "cli.mjs"),
      gateway: { url, token },
      origins: { v1: v1.url, v2: v2.url, dead: `http://127.0.0.1:${await deadPort()}` },
      scratchDir,
    });
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

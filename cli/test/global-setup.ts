import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startGateway } from "../../scripts/gateway.ts";
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

function buildCli(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "scripts", "build-cli.mjs")], { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`building the CLI failed (exit ${code})`))));
  });
}

/**
 * Test what users run: a fresh dist/cli.mjs, built once per run. The cli and e2e projects both use this
 * setup in the same vitest process, so the first one to get here builds and the other waits for it.
 */
const builds = globalThis as { daeployCliBuild?: Promise<void> };
const buildCliOnce = () => {
  builds.daeployCliBuild ??= buildCli();
  return builds.daeployCliBuild;
};

/** Each project gets a gateway of its own (cli tests `kill --all`), with its own state and token. */
export default async function setup(project: TestProject) {
  const scratchDir = await mkdtemp(join(tmpdir(), `daeploy-edge-${project.name}-`));
  const started = await Promise.allSettled([
    startGateway({ token: `test-${randomUUID()}`, stateDir: join(scratchDir, "gateway") }),
    startOrigin({ version: "1.0.0" }),
    startOrigin({ version: "2.0.0" }),
    deadPort(),
    buildCliOnce(),
  ]);
  const ok = <T>(result: PromiseSettledResult<T>) => (result.status === "fulfilled" ? result.value : undefined);
  const [gateway, v1, v2, dead] = [ok(started[0]), ok(started[1]), ok(started[2]), ok(started[3])];
  const teardown = async () => {
    await gateway?.stop();
    await Promise.all([v1?.close(), v2?.close()]);
    await rm(scratchDir, { recursive: true, force: true });
  };
  const failure = started.find((result) => result.status === "rejected");
  if (failure || !gateway || !v1 || !v2 || dead === undefined) {
    await teardown();
    throw failure?.reason ?? new Error("the test world did not start");
  }

  project.provide("cliWorld", {
    cliPath: join(root, "dist", "cli.mjs"),
    gateway: { url: gateway.url, token: gateway.token },
    origins: { v1: v1.url, v2: v2.url, dead: `http://127.0.0.1:${dead}` },
    scratchDir,
  });
  return teardown;
}

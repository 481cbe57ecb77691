import { spawn } from "node:child_process";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startTestWorld } from "../../worker/test/support/world.ts";

declare module "vitest" {
  export interface ProvidedContext {
    cliWorld: {
      /** The built CLI, as `npx daeploy-edge` runs it. */
      cliPath: string;
      gateway: { url: string; token: string; readToken: string };
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
  const world = await startTestWorld(project.name, [buildCliOnce()]);
  project.provide("cliWorld", {
    cliPath: join(root, "dist", "cli.mjs"),
    gateway: world.gateway,
    origins: world.origins,
    scratchDir: world.scratchDir,
  });
  return world.teardown;
}

// The gateway under test runs from a frozen copy of the checkout: wrangler dev
// rebuilds and restarts the Worker whenever a source file changes, and an edit made
// in the working tree during a run would otherwise swap the code being measured.
import { cpSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

const GATEWAY_FILES = [
  "worker/src",
  // The bench runs the gateway through this entry, whose ledgers count their batches (wrangler-dev.ts).
  "bench/counted-gateway",
  // wrangler.toml's [build] bundles the dashboard before the Worker starts.
  "dashboard/build.mjs",
  "dashboard/src",
  "dashboard/static",
  "migrations",
  "scripts",
  "wrangler.toml",
  "package.json",
  "tsconfig.json",
  ".dev.vars.example",
];

/** Copies what `npm run dev` needs from `root` into `dir`, links `nodeModules` there, and returns `dir`. */
export function snapshotGateway(root: string, dir: string, nodeModules: string): string {
  mkdirSync(dir, { recursive: true });
  for (const path of GATEWAY_FILES) {
    const from = join(root, path);
    if (existsSync(from)) cpSync(from, join(dir, path), { recursive: true });
  }
  symlinkSync(nodeModules, join(dir, "node_modules"), "dir");
  return dir;
}

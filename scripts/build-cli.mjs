#!/usr/bin/env node
// Builds the CLI to dist/cli.mjs: plain JavaScript for Node 20+, so an installed
// `daeploy-edge` never runs TypeScript from node_modules. Dependencies stay
// external, and the worker is imported for its types only, so none of its code
// ends up in dist/. Runs on `npm ci` through the `prepare` script.
import { chmod, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "dist", "cli.mjs");

await rm(join(root, "dist"), { recursive: true, force: true });
await build({
  entryPoints: [join(root, "cli", "src", "cli.ts")],
  outfile,
  bundle: true,
  packages: "external",
  platform: "node",
  target: "node20",
  format: "esm",
  tsconfig: join(root, "cli", "tsconfig.json"),
  logLevel: "warning",
});
await chmod(outfile, 0o755);

#!/usr/bin/env node
// Builds the CLI to dist/cli.mjs: plain JavaScript for Node 20+, so an installed
// `daeploy-edge` never runs TypeScript from node_modules. Dependencies stay
// external, and the worker is imported for its types only, so none of its code
// ends up in dist/. Runs on `npm ci` through the `prepare` script.
import { chmod, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "dist", "cli.mjs");
// Built aside, then renamed into place: a CLI already running (two test projects build at once) never sees half a file.
const partial = `${outfile}.${process.pid}.partial`;

await build({
  entryPoints: [join(root, "cli", "src", "cli.ts")],
  outfile: partial,
  bundle: true,
  packages: "external",
  platform: "node",
  target: "node20",
  format: "esm",
  tsconfig: join(root, "cli", "tsconfig.json"),
  logLevel: "warning",
});
await chmod(partial, 0o755);
await rename(partial, outfile);

#!/usr/bin/env node
// Builds the CLI to dist/cli.mjs: one file of plain JavaScript for Node 20+, with citty, consola and
// hono's client bundled in, so an installed `daeploy-edge` needs no dependencies and never runs
// TypeScript from node_modules. The worker is imported for its types only, so none of its code ends
// up in dist/. `npm run build`, `npm pack` (through prepack), `npm run dev` and the tests run it.
import { chmod, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "dist", "cli.mjs");
// Built aside, then renamed into place: a CLI already running never sees half a file.
const partial = `${outfile}.${process.pid}.partial`;

await build({
  entryPoints: [join(root, "cli", "src", "cli.ts")],
  outfile: partial,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  tsconfig: join(root, "cli", "tsconfig.json"),
  legalComments: "eof",
  logLevel: "warning",
});
await chmod(partial, 0o755);
await rename(partial, outfile);

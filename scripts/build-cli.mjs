#!/usr/bin/env node
// Builds the CLI to dist/cli.mjs: one file of plain JavaScript for Node 20+, with citty, consola and
// hono's client bundled in, so an installed `daeploy-edge` needs no dependencies and never runs
// TypeScript from node_modules. The worker is imported for its types only, so none of its code ends
// up in dist/. `npm run build`, `npm pack` (through prepack), `npm run dev` and the tests run it.
import { existsSync } from "node:fs";
import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { INPUTS_FILE } from "./cli-freshness.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "dist", "cli.mjs");
// Built aside, then renamed into place: a CLI already running never sees half a file.
const partial = `${outfile}.${process.pid}.partial`;

const result = await build({
  entryPoints: [join(root, "cli", "src", "cli.ts")],
  outfile: partial,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  tsconfig: join(root, "cli", "tsconfig.json"),
  legalComments: "eof",
  metafile: true,
  logLevel: "warning",
});
await chmod(partial, 0o755);
await writeNotices(Object.keys(result.metafile.inputs));
await writeInputs(Object.keys(result.metafile.inputs));
await rename(partial, outfile);

/**
 * What the bundle was built from, for bin/daeploy-edge.mjs to tell when a checkout's dist/ is stale:
 * the project's own modules (cli/src and the worker modules it imports, package.json), what decides
 * how they are bundled, and npm's record of node_modules (rewritten by every `npm install`).
 */
async function writeInputs(inputs) {
  const own = inputs
    .map((input) => relative(root, resolve(input)))
    .filter((path) => !path.startsWith("..") && !path.split("/").includes("node_modules"));
  const extra = ["scripts/build-cli.mjs", "scripts/cli-freshness.mjs", "cli/tsconfig.json", "tsconfig.json"];
  const npmRecord = "node_modules/.package-lock.json";
  if (existsSync(join(root, npmRecord))) extra.push(npmRecord);
  const path = join(root, "dist", INPUTS_FILE);
  await writeFile(`${path}.${process.pid}.partial`, `${JSON.stringify({ inputs: [...own, ...extra] }, null, 2)}\n`);
  await rename(`${path}.${process.pid}.partial`, path);
}

/**
 * The bundled packages' licences travel with the bundle: most of them ask for their notice to be
 * kept, and esbuild keeps only comments marked as legal, which few packages write.
 */
async function writeNotices(inputs) {
  const packages = new Set();
  for (const input of inputs) {
    const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packages.add(match[1]);
  }
  const sections = [];
  for (const name of [...packages].sort()) {
    const dir = join(root, "node_modules", name);
    const { version, license } = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
    const text = await readFile(join(dir, "LICENSE"), "utf8").catch(() => `Licensed under ${license}.`);
    sections.push(`## ${name} ${version} (${license})\n\n${text.trim()}\n`);
  }
  const notices = `# Third-party software bundled in dist/cli.mjs\n\n${sections.join("\n")}`;
  const path = join(root, "dist", "THIRD_PARTY_LICENSES.md");
  await writeFile(`${path}.${process.pid}.partial`, notices);
  await rename(`${path}.${process.pid}.partial`, path);
}

#!/usr/bin/env node
// Builds the operator's dashboard into dashboard/dist, the Worker's static assets directory
// (wrangler.toml [assets]): dashboard/dist/dashboard/* is served at /dashboard/* by the Worker.
// Test gateways start in parallel and each runs this, so every file is written to a temporary name and renamed.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist");
const page = join(out, "dashboard");
const require = createRequire(import.meta.url);

async function put(path, contents) {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, path);
}

const bundle = await build({
  entryPoints: [join(here, "src", "main.ts")],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  write: false,
  outfile: join(page, "app.js"),
  logLevel: "warning",
});
const uplotCss = require.resolve("uplot/dist/uPlot.min.css");

await Promise.all([
  ...bundle.outputFiles.map((file) => put(file.path, file.contents)),
  put(join(page, "index.html"), await readFile(join(here, "static", "index.html"))),
  put(join(page, "style.css"), await readFile(join(here, "static", "style.css"))),
  put(join(page, "uPlot.min.css"), await readFile(uplotCss)),
]);

#!/usr/bin/env node
// The installed package ships dist/cli.mjs. In a fresh clone it is not built yet (installing runs no
// scripts), so the first `npx daeploy-edge` builds it with the clone's own esbuild.
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli.mjs", import.meta.url);
const buildScript = new URL("../scripts/build-cli.mjs", import.meta.url);
if (!existsSync(cli) && existsSync(buildScript)) {
  process.stderr.write("Building dist/cli.mjs (first run from a clone; `npm run build` rebuilds it)\n");
  await import(buildScript.href);
}
await import(cli.href);

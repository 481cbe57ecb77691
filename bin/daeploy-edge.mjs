#!/usr/bin/env node
// The installed package ships dist/cli.mjs and none of its sources. A clone builds it with its own
// esbuild: on the first run (installing runs no scripts), and in a git checkout again whenever a
// source it was built from is newer (after a `git pull`), so `npx daeploy-edge` never runs an old CLI.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = new URL("../", import.meta.url);
const cli = new URL("dist/cli.mjs", root);
const buildScript = new URL("scripts/build-cli.mjs", root);
if (existsSync(buildScript)) {
  const why = existsSync(new URL(".git", root))
    ? (await import(new URL("scripts/cli-freshness.mjs", root).href)).whyRebuild(fileURLToPath(root))
    : !existsSync(cli) && "it is not built yet";
  if (why) {
    process.stderr.write(`Building dist/cli.mjs: ${why} (\`npm run build\` builds it too)\n`);
    try {
      await import(buildScript.href);
    } catch (error) {
      // Not the older dist/: it would run a CLI that does not match the code. esbuild has said more above.
      const what = String(error?.message ?? error).split("\n")[0];
      process.stderr.write(`Building dist/cli.mjs failed (${what}); run \`npm install\`, then \`npm run build\`\n`);
      process.exit(1);
    }
  }
}
await import(cli.href);

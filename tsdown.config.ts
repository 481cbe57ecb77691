import { defineConfig } from "tsdown";

// The published CLI: plain JavaScript for Node 20+, so `npx daeploy-edge` never has to run TypeScript
// from node_modules. citty, consola and hono stay external (they are dependencies); the worker is
// only imported for its types, so none of its runtime code ends up in dist/.
export default defineConfig({
  entry: { cli: "cli/src/cli.ts" },
  outDir: "dist",
  format: "esm",
  platform: "node",
  target: "node20",
  fixedExtension: true,
  dts: false,
  clean: true,
  tsconfig: "cli/tsconfig.json",
});

// The worker's layers, checked by `npm run lint` (docs/development.md draws them):
//   api, rollout (the cron) → coordinator → registry, db
//   proxy, health           → evidence
// evidence and registry are leaves: they import no other folder of the worker. Modules at the top of
// worker/src (env.ts, errors.ts, config.ts, …) are shared leaves too; index.ts is the composition root
// and may import anything, so it is left out of the graph (it would join every folder into one cycle).
// Run on another tree (the fixtures of worker/test/unit/layers.test.ts) with --config and a root.

const folder = (name) => `^worker/src/${name}/`;
const anyFolder = "^worker/src/[^/]+/";

/** A folder may import only the folders listed (and top-level modules, and packages). */
const onlyImports = (name, allowed, comment) => ({
  name: `${name}-imports-only-${allowed.length ? allowed.join("-") : "itself"}`,
  comment,
  severity: "error",
  from: { path: folder(name) },
  to: { path: anyFolder, pathNot: `^worker/src/(${[name, ...allowed].join("|")})/` },
});

/** A folder may not import these folders. */
const neverImports = (name, forbidden, comment) => ({
  name: `${name}-never-imports-${forbidden.join("-")}`,
  comment,
  severity: "error",
  from: { path: folder(name) },
  to: { path: `^worker/src/(${forbidden.join("|")})/` },
});

export default {
  forbidden: [
    {
      name: "no-folder-cycles",
      comment: "Folders form layers: no folder reaches back to itself through others",
      severity: "error",
      scope: "folder",
      from: {},
      to: { circular: true },
    },
    onlyImports("evidence", [], "Evidence is judged from what it is given: it imports no other folder"),
    onlyImports("registry", [], "The registry's rules are pure and its records plain: it imports no other folder"),
    {
      name: "top-level-modules-are-leaves",
      comment: "env.ts, errors.ts, config.ts and the like are shared by every folder, so they import none",
      severity: "error",
      from: { path: "^worker/src/[^/]+\\.ts$" },
      to: { path: anyFolder },
    },
    // The stored policy's type and its defaults live with the evidence (evidence/verdict.ts); until they
    // move to a leaf both can import, db reads them from there. Nothing else of evidence is allowed.
    {
      ...onlyImports("db", ["registry"], "Storage sits under the coordinator: it imports the registry's records only"),
      to: { path: anyFolder, pathNot: "^worker/src/(db|registry)/|^worker/src/evidence/verdict\\.ts$" },
    },
    neverImports(
      "coordinator",
      ["api", "rollout", "proxy", "health", "dashboard"],
      "The coordinator is called by the API and the cron, never the other way",
    ),
    neverImports(
      "notify",
      ["api", "coordinator", "rollout", "proxy", "health", "dashboard"],
      "Notifications are sent by those above them; they only read the records and the evidence",
    ),
    neverImports(
      "proxy",
      ["api", "coordinator", "rollout", "notify", "health", "dashboard"],
      "The proxy serves traffic and hands its evidence on; it never reaches the admin side",
    ),
    neverImports("health", ["api", "coordinator", "rollout", "notify", "dashboard"], "Health probes only write status"),
    neverImports("rollout", ["api", "dashboard"], "The rollout cron drives the coordinator, beside the API"),
  ],
  options: {
    includeOnly: "^worker/src/",
    exclude: { path: "^worker/src/index\\.ts$|\\.d\\.ts$" },
    // Type-only imports are dependencies too: a type from another layer couples the two as much as a value.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs"] },
  },
};

import { execFileSync } from "node:child_process";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { LongestFirst } from "./scripts/longest-first.ts";

/**
 * The plugin asks for its options each time it starts a workerd, once for every test file: the dashboard
 * is built (a blocking esbuild run in vitest's own process) and the migrations read once per run instead.
 */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make();
    return made;
  };
}

export default defineConfig({
  test: {
    // Two files of unit and workers at once: most of a test's time is spent waiting on origins, workerd and
    // timers, not on a core. (Left out, vitest runs one file at a time on two cores.) Three at once, beside
    // the other parts of `npm test`, left workerd so short of CPU that health probes (2 s) and canaries failed.
    // The projects that set fileParallelism: false still run their files one at a time; `npm test`
    // (scripts/test.mjs) runs each of them in a vitest of its own, beside the others.
    maxWorkers: 2,
    // Each project's longest files first (from scripts/test-durations.json), so none starts last and runs alone.
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        // Pure rules and parsing: no bindings, plain Node.
        test: {
          name: "unit",
          include: [
            "worker/test/unit/**/*.test.ts",
            "cli/test/unit/**/*.test.ts",
            "bench/test/**/*.test.ts",
            "dashboard/test/unit/**/*.test.ts",
            "docs/**/*.test.ts",
          ],
          environment: "node",
          // One worker process holds many files in turn (no fresh process per file): these tests keep no
          // state between files, and each file that fakes timers or env restores them after itself.
          isolate: false,
          // Beside the other parts of `npm test` on a loaded machine, 5 s is too little for the statistical sweeps.
          testTimeout: 20_000,
        },
      },
      {
        // The worker inside workerd, with a real local D1 and Durable Object, against real Node origins.
        plugins: [
          cloudflareTest(
            once(async () => {
              // The Worker serves the dashboard from its static assets, which `wrangler dev` and `deploy` build
              // first ([build] in wrangler.toml); the runtime's tests build them too, so a clean clone has them.
              execFileSync(process.execPath, ["dashboard/build.mjs"], { stdio: "inherit" });
              return {
                wrangler: { configPath: "./wrangler.toml" },
                miniflare: {
                  bindings: {
                    ADMIN_TOKEN: "test-token",
                    ROUTES_CACHE_TTL_MS: "0",
                    HEALTH_TIMEOUT_MS: "2000",
                    TEST_MIGRATIONS: await readD1Migrations("./migrations"),
                  },
                },
              };
            }),
          ),
        ],
        test: {
          name: "workers",
          include: ["worker/test/runtime/**/*.test.ts"],
          setupFiles: ["./worker/test/runtime/apply-migrations.ts"],
          globalSetup: ["./worker/test/runtime/global-setup.ts", "./worker/test/runtime/health-setup.ts"],
          // Two workerd at a time beside the other parts: a test that takes 2 s alone can take 5 on a loaded machine.
          testTimeout: 20_000,
        },
      },
      {
        // The built CLI as a subprocess against one `npm run dev` gateway and real Node origins.
        // Files run one at a time: they share that gateway, and `kill --all` touches every name.
        test: {
          name: "cli",
          include: ["cli/test/*.test.ts"],
          environment: "node",
          globalSetup: ["./cli/test/global-setup.ts"],
          fileParallelism: false,
          env: { TZ: "UTC" },
          // Each CLI call is a Node process of its own; beside the other projects, a few of them take 5 s.
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        // One user's story end to end, on a gateway of its own: CLI, proxy, mirroring, health, failures.
        test: {
          name: "e2e",
          include: ["e2e/**/*.test.ts"],
          environment: "node",
          // The same setup as the cli project: one CLI build per run, a gateway per project.
          // Files share that gateway, and the story ends with `kill --all`: one file at a time.
          fileParallelism: false,
          globalSetup: ["./cli/test/global-setup.ts"],
          env: { TZ: "UTC" },
          testTimeout: 30_000,
        },
      },
      {
        // The operator's dashboard in a real headless Chromium, on a gateway of its own with real origins.
        // One operator's session in order: one file, one browser page.
        test: {
          name: "browser",
          include: ["dashboard/test/*.test.ts"],
          environment: "node",
          globalSetup: ["./dashboard/test/global-setup.ts"],
          fileParallelism: false,
          // A step that sends 500 requests took over 30 s beside the other parts of npm test on a busy
          // machine, and the steps after it, which build on it, failed with it.
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // A page shows a change after several API reads in a row, seconds on a busy machine: polls wait 10 s, not 1.
          expect: { poll: { timeout: 10_000 } },
        },
      },
    ],
  },
});

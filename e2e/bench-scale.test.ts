import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// `npm run bench -- --scale --quick` as the README gives it, from the repository: it starts its own
// ledger Worker under wrangler dev, so it needs nothing this project's gateway provides. It once
// failed on a fresh clone after a minute of work because bench/results did not exist; here the
// results go to a folder that does not exist yet either, two levels deep.

const root = join(import.meta.dirname, "..");
const scratch = mkdtempSync(join(tmpdir(), "daeploy-bench-scale-"));
const resultsDir = join(scratch, "fresh", "results");

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", "bench/run.ts", ...args], {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("npm run bench -- --scale --quick", () => {
  it("finishes, prints its table and writes its results into a folder it creates", { timeout: 300_000 }, async () => {
    const { code, stdout, stderr } = await runBench(["--scale", "--quick", "--results", resultsDir]);
    expect(stderr).not.toContain("ENOENT");
    expect(code).toBe(0);
    expect(stdout).toContain("| shards | writers (1 batch/s each) | batches due | written |");
    // One row for each of 1 and 4 shards under 10, 100 and 400 writers.
    expect(stdout.match(/^\| [14] +\| (10|100|400) +\|/gm)).toHaveLength(6);
    expect(stdout).toMatch(/Most writes a second one shard took here .*: \d+/);
    const written = join(resultsDir, "scale-quick.json");
    expect(existsSync(written)).toBe(true);
    expect(JSON.parse(readFileSync(written, "utf8"))).toMatchObject({ quick: true, rows: expect.any(Array) });
  });
});

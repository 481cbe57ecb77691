// `npm run bench:report` with a wrong flag says so in one line, and `--help` lists the flags: no stack trace.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const run = (...args: string[]) =>
  spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", join("bench", "report-time.ts"), ...args], {
    encoding: "utf8",
  });

describe("npm run bench:report's command line", () => {
  it("refuses an unknown flag in one line, exit 2, before starting anything", () => {
    const { status, stdout, stderr } = run("--day", "1");
    expect(status).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toEqual([
      "bench:report: Unknown option '--day'. See npm run bench:report -- --help.",
    ]);
  });

  it("refuses days a ledger does not keep, and a --root with no checkout in it", () => {
    for (const [args, line] of [
      [["--days", "8"], "--days must be a whole number from 1 to 7, not '8'"],
      [["--days", "half"], "--days must be a whole number from 1 to 7, not 'half'"],
      [["--root", "/nonexistent"], "--root /nonexistent holds no checkout of daeploy-edge (no scripts/dev.mjs)"],
    ] as const) {
      const { status, stderr } = run(...args);
      expect(status, args.join(" ")).toBe(2);
      expect(stderr.trim().split("\n")).toEqual([`bench:report: ${line}. See npm run bench:report -- --help.`]);
    }
  });

  it("lists every flag under --help", () => {
    const { status, stdout } = run("--help");
    expect(status).toBe(0);
    for (const flag of ["--days", "--root", "--help"]) expect(stdout).toContain(flag);
  });
});

// `npm run bench` with a wrong flag says so in one line, and `--help` lists the flags: no stack trace.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const run = (...args: string[]) =>
  spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", join("bench", "run.ts"), ...args], {
    encoding: "utf8",
  });

describe("npm run bench's command line", () => {
  it("refuses an unknown flag in one line, exit 2, before starting anything", () => {
    const { status, stdout, stderr } = run("--hepl");
    expect(status).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toEqual(["bench: Unknown option '--hepl'. See npm run bench -- --help."]);
  });

  it("lists every flag under --help", () => {
    const { status, stdout } = run("--help");
    expect(status).toBe(0);
    for (const flag of ["--rounds", "--only", "--steady-rate", "--profile", "--soak", "--scale", "--judge"]) {
      expect(stdout).toContain(flag);
    }
  });
});

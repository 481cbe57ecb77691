import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { inject } from "vitest";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout split into lines, without the final empty one. */
  out: string[];
  /** stderr split into lines, without the final empty one. */
  err: string[];
}

export interface RunOptions {
  /** Typed at the prompts; without it stdin is empty, so a prompt reads end of input. */
  input?: string;
  /** Extra environment (DAEPLOY_HOST, DAEPLOY_TOKEN, XDG_CONFIG_HOME...). */
  env?: Record<string, string | undefined>;
  /** Run this file instead of `node <cliPath>` (to check the bin itself). */
  executable?: string;
}

/** The CLI targets Node 20 while the tests run on 22; `CLI_TEST_NODE=/usr/bin/node` runs the CLI on another Node. */
const nodeForCli = process.env.CLI_TEST_NODE || process.execPath;

const lines = (text: string) => (text === "" ? [] : text.replace(/\n$/, "").split("\n"));

/**
 * A person with their own home directory: the CLI runs as a subprocess with HOME and
 * XDG_CONFIG_HOME pointing at fresh temporary directories, TZ=UTC, and nothing inherited
 * from the test runner's DAEPLOY_* variables.
 */
export async function newUser() {
  const { cliPath, scratchDir } = inject("cliWorld");
  const home = await mkdtemp(join(scratchDir, "home-"));
  const configHome = join(home, "xdg-config");
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: home,
    XDG_CONFIG_HOME: configHome,
    TZ: "UTC",
    NO_COLOR: "1",
  };

  function run(args: string[], options: RunOptions = {}): Promise<CliResult> {
    const env: Record<string, string> = { ...baseEnv };
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    const [command, commandArgs] = options.executable ? [options.executable, args] : [nodeForCli, [cliPath, ...args]];
    return new Promise((resolve, reject) => {
      const child = spawn(command, commandArgs, { env, stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`daeploy-edge ${args.join(" ")} did not finish in 20 s\n${stdout}\n${stderr}`));
      }, 20_000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, out: lines(stdout), err: lines(stderr) });
      });
      child.stdin.end(options.input ?? "");
    });
  }

  return { home, configHome, run };
}

/** Daeploy's RUNNING cell for a record, in UTC (the tests run the CLI with TZ=UTC). */
export const since = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;

/** Runs the CLI under a pseudo-terminal (util-linux `script`), so its stdout is a TTY; resolves with what it printed. */
export function runOnTerminal(home: string, args: string[], env: Record<string, string>): Promise<string> {
  const { cliPath } = inject("cliWorld");
  const command = [nodeForCli, cliPath, ...args].map((word) => `'${word}'`).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      env: { PATH: process.env.PATH ?? "", HOME: home, TZ: "UTC", TERM: "xterm", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", () => resolve(output));
  });
}

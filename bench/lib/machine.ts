// What the run ran on, so a results table can be read against its machine.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, readlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, release, totalmem } from "node:os";
import type { MachineInfo } from "./report.ts";

function wranglerVersion(): string {
  const path = createRequire(import.meta.url).resolve("wrangler/package.json");
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}

/** The version of the workerd binary actually running, read from the process itself. */
function workerdVersion(workerdPid: number | undefined): string {
  if (workerdPid === undefined) return "unknown";
  try {
    return execFileSync(readlinkSync(`/proc/${workerdPid}/exe`), ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

function wrkVersion(): string {
  const run = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  return /wrk (\S+)/.exec(run.stdout)?.[1] ?? "unknown";
}

/** The commit the gateway was built from, marked when worker/ or its config has uncommitted changes. */
export function gatewaySource(root: string): string {
  const git = (args: string[]) => spawnSync("git", args, { cwd: root, encoding: "utf8" });
  const head = git(["rev-parse", "--short", "HEAD"]);
  if (head.status !== 0) return `${root} (not a git checkout)`;
  const dirty = git(["status", "--porcelain", "--", "worker/src", "wrangler.toml", "migrations"]).stdout.trim() !== "";
  return `${head.stdout.trim()}${dirty ? " + uncommitted changes in worker/src" : ""}`;
}

export function describeMachine(options: {
  root: string;
  workerdPid: number | undefined;
  nginx: string | null;
  load: string;
}): MachineInfo {
  const cpuList = cpus();
  return {
    cores: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? "unknown",
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: release(),
    node: process.version,
    wrangler: wranglerVersion(),
    workerd: workerdVersion(options.workerdPid),
    nginx: options.nginx,
    wrk: wrkVersion(),
    load: options.load,
    gateway: gatewaySource(options.root),
  };
}

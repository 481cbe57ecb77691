// Every process the bench starts is registered here, in its own process group, so
// that one call stops all of them (and their children, such as workerd) on success,
// failure or Ctrl-C.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { exited, signalGroup } from "../../scripts/gateway.ts";

export interface Started {
  name: string;
  child: ChildProcess;
  pid: number;
  logPath: string;
}

const running = new Set<Started>();

/** Spawns `command` in a new process group; its stdout and stderr go to `<logDir>/<name>.log`. */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: { logDir: string; cwd?: string; env?: NodeJS.ProcessEnv; onStdout?: (text: string) => void },
): Started {
  const logPath = join(options.logDir, `${name}.log`);
  const log = createWriteStream(logPath);
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`Could not start ${name} (${command})`);
  child.stdout?.on("data", (chunk: Buffer) => {
    log.write(chunk);
    options.onStdout?.(chunk.toString("utf8"));
  });
  child.stderr?.on("data", (chunk: Buffer) => log.write(chunk));
  child.on("exit", () => log.end());
  const started = { name, child, pid: child.pid, logPath };
  running.add(started);
  return started;
}

/** Registers a process started elsewhere (the gateway launcher) so that stopAll() and killAllNow() reach it. */
export function adoptProcess(name: string, child: ChildProcess, logPath: string): Started {
  if (child.pid === undefined) throw new Error(`${name} has no process id`);
  const started = { name, child, pid: child.pid, logPath };
  running.add(started);
  return started;
}

/** SIGTERM to each group, then SIGKILL to any group whose leader is still alive after 5 s. */
export async function stopProcess(started: Started): Promise<void> {
  signalGroup(started.pid, "SIGTERM");
  if (!(await exited(started.child, 5_000))) signalGroup(started.pid, "SIGKILL");
  // Children of the leader (workerd under wrangler) may outlive it by a moment.
  signalGroup(started.pid, "SIGKILL");
  running.delete(started);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(stopProcess));
}

/** Last resort for a synchronous exit path: no waiting, just SIGKILL every group. */
export function killAllNow(): void {
  for (const started of running) signalGroup(started.pid, "SIGKILL");
  running.clear();
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export { deadPort, freePort } from "../../scripts/ports.ts";

/** Polls `url` until `isReady(response)` or the timeout; a process that exits early fails at once. */
export async function waitForHttp(
  url: string,
  started: Started,
  timeoutMs: number,
  init: RequestInit = {},
  isReady: (response: Response) => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null) {
      throw new Error(`${started.name} exited with code ${started.child.exitCode}; see ${started.logPath}`);
    }
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (isReady(response)) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${started.name} did not answer at ${url} within ${timeoutMs / 1000} s; see ${started.logPath}`);
}

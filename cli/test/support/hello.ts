import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

const server = join(import.meta.dirname, "..", "..", "..", "examples", "hello", "server.mjs");

export interface RunningHello {
  url: string;
  /** Every line it logged so far. */
  log: string[];
  stop(): Promise<void>;
}

/** The tutorial's origin, examples/hello/server.mjs, as a user runs it: its own process, on a free port. */
export function startHello(version: string, flags: string[] = []): Promise<RunningHello> {
  const child = spawn(process.execPath, [server, version, "0", ...flags], { stdio: ["ignore", "pipe", "pipe"] });
  const log: string[] = [];
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`hello ${version} did not start within 5 s: ${log.join("\n")}`));
    }, 5_000);
    child.stderr.on("data", (chunk: Buffer) => log.push(chunk.toString()));
    child.once("exit", (code) => reject(new Error(`hello ${version} exited ${code}: ${log.join("\n")}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      log.push(line);
      const listening = /listening on (http:\/\/\S+)$/.exec(line);
      if (listening?.[1]) {
        clearTimeout(timer);
        resolve({ url: listening[1], log, stop });
      }
    });
  });
}

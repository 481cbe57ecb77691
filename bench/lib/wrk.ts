// Load comes from wrk (C, event-driven), which leaves more of this small machine's
// CPU to the runtime under test than a Node load generator would.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const reportScript = fileURLToPath(new URL("../wrk/report.lua", import.meta.url));

export interface WrkReport {
  durationUs: number;
  requests: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number };
}

export interface LoadOptions {
  url: string;
  durationS: number;
  connections: number;
  /** > 0 sends every request as a POST with a body of this many bytes. */
  bodyBytes: number;
  /** A request slower than this counts as a timeout error. */
  timeoutS: number;
}

/** Reads the line that bench/wrk/report.lua prints at the end of a run. */
export function parseWrkOutput(stdout: string): WrkReport {
  const line = stdout.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!line) throw new Error(`wrk printed no report line:\n${stdout}`);
  return JSON.parse(line.slice("BENCH_JSON ".length)) as WrkReport;
}

/** Socket errors, timeouts and HTTP status >= 400 (wrk's definition of a status error). */
export function errorCount(report: WrkReport): number {
  const { connect, read, write, status, timeout } = report.errors;
  return connect + read + write + status + timeout;
}

export function hasWrk(): Promise<boolean> {
  return new Promise((resolve) => execFile("wrk", ["--version"], (error) => resolve(error?.code !== "ENOENT")));
}

export function runWrk(options: LoadOptions): Promise<WrkReport> {
  const args = [
    "--threads",
    "1",
    "--connections",
    String(options.connections),
    "--duration",
    `${options.durationS}s`,
    "--timeout",
    `${options.timeoutS}s`,
    "--script",
    reportScript,
    options.url,
  ];
  const env = { ...process.env, BENCH_BODY_BYTES: String(options.bodyBytes) };
  // wrk stops itself after --duration; the kill timer only guards against a hang.
  const killAfterMs = (options.durationS + options.timeoutS + 10) * 1000;
  return new Promise((resolve, reject) => {
    execFile("wrk", args, { env, timeout: killAfterMs, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      if (error) reject(new Error(`wrk failed: ${error.message}\n${stderr}`));
      else {
        try {
          resolve(parseWrkOutput(stdout));
        } catch (parseError) {
          reject(parseError);
        }
      }
    });
  });
}

// Benchmark origins: each a separate Node process running bench/origin.ts.
import { fileURLToPath } from "node:url";
import { type Started, startProcess } from "./processes.ts";

const originScript = fileURLToPath(new URL("../origin.ts", import.meta.url));

export interface Origin {
  name: string;
  url: string;
  /** How long it takes to answer: milliseconds, or a spec bench/lib/latency.ts reads. */
  latency: string;
  process: Started;
}

export interface OriginStats {
  received: number;
  inFlight: number;
  /** Open connections, idle keep-alive ones included. */
  connections: number;
}

// A runtime keeps a pool of idle connections per origin; a slow shadow leaves hundreds.
const SETTLED_CONNECTIONS = 32;

/** `latency`: a fixed delay in ms, or a spec bench/lib/latency.ts reads (`lognormal:<median ms>:<sigma>`). */
export async function startOrigin(name: string, latency: number | string, logDir: string): Promise<Origin> {
  let output = "";
  let onListening: (port: number) => void = () => {};
  const listening = new Promise<number>((resolve) => {
    onListening = resolve;
  });
  const started = startProcess(
    `origin-${name}`,
    process.execPath,
    ["--disable-warning=ExperimentalWarning", originScript, "--name", name, "--latency", String(latency)],
    {
      logDir,
      onStdout: (text) => {
        output += text;
        const match = /listening (\d+)/.exec(output);
        if (match) onListening(Number(match[1]));
      },
    },
  );
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`origin ${name} did not start; see ${started.logPath}`)), 10_000).unref(),
  );
  const port = await Promise.race([listening, timeout]);
  return { name, url: `http://127.0.0.1:${port}`, latency: String(latency), process: started };
}

export async function originStats(origin: Origin): Promise<OriginStats> {
  const response = await fetch(`${origin.url}/__bench/stats`, { signal: AbortSignal.timeout(5_000) });
  return (await response.json()) as OriginStats;
}

/**
 * Waits until no origin holds a request, so slow shadow copies of one run neither
 * spill into the next run nor escape its CPU reading; with `settle`, also until the
 * connections a slow shadow piled up have closed, so the next run starts clean.
 */
export async function drainOrigins(origins: Origin[], timeoutMs: number, settle = false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const stats = await Promise.all(origins.map(originStats));
    const idle = stats.every((s) => s.inFlight === 0);
    if (idle && (!settle || stats.every((s) => s.connections <= SETTLED_CONNECTIONS))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

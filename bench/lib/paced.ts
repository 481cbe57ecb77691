// Load at a steady rate (open loop): requests go out on a fixed schedule whether or
// not earlier ones have answered, and each latency is counted from the moment its
// request was due. wrk keeps its connections busy back to back, which measures
// capacity; this measures what a client sees at a rate the runtime can carry, and a
// stall shows in full instead of pausing the clock (coordinated omission).
import { Agent, request } from "node:http";
import type { WrkReport } from "./wrk.ts";

export interface PacedOptions {
  url: string;
  /** Requests a second, spread evenly. */
  rate: number;
  durationS: number;
  /** A request slower than this counts as a timeout error. */
  timeoutS: number;
}

/** The value below which `share` of the sorted latencies fall (nearest rank). */
export function quantile(sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(share * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

/** When the `i`-th request is due, in ms after the start, at `rate` a second. */
export const dueAtMs = (i: number, rate: number): number => (i * 1000) / rate;

export async function runPaced(options: PacedOptions): Promise<WrkReport> {
  // Enough sockets that a request never waits for a free one: a stall must show as latency.
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const total = Math.round(options.rate * options.durationS);
  const latenciesUs: number[] = [];
  const errors = { connect: 0, read: 0, write: 0, status: 0, timeout: 0 };
  const pending: Promise<void>[] = [];
  const start = performance.now();

  type Failure = keyof typeof errors;
  const send = (due: number) =>
    new Promise<void>((resolve) => {
      let timedOut = false;
      let settled = false;
      // Each request ends once: answered (its latency kept), or failed in one way.
      const settle = (failure?: Failure) => {
        if (settled) return;
        settled = true;
        if (failure) errors[failure]++;
        resolve();
      };
      const req = request(options.url, { agent, timeout: options.timeoutS * 1000 }, (res) => {
        res.resume();
        res.on("end", () => {
          latenciesUs.push((performance.now() - due) * 1000);
          settle((res.statusCode ?? 0) >= 400 ? "status" : undefined);
        });
        res.on("error", () => settle("read"));
      });
      req.on("timeout", () => {
        timedOut = true;
        req.destroy();
      });
      req.on("error", () => settle(timedOut ? "timeout" : "connect"));
      req.end();
    });

  for (let i = 0; i < total; i++) {
    const due = start + dueAtMs(i, options.rate);
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(send(due));
  }
  await Promise.all(pending);
  const durationUs = (performance.now() - start) * 1000;
  agent.destroy();

  const sorted = latenciesUs.sort((a, b) => a - b);
  return {
    durationUs,
    requests: sorted.length,
    errors,
    latencyUs: {
      p50: quantile(sorted, 0.5),
      p90: quantile(sorted, 0.9),
      p99: quantile(sorted, 0.99),
      p999: quantile(sorted, 0.999),
      max: sorted.at(-1) ?? 0,
    },
  };
}

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { dueAtMs, quantile, runPaced } from "../lib/paced.ts";
import { deadPort } from "../lib/processes.ts";

let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A local origin that answers at once, with the status it is told to. */
async function origin(status = 200): Promise<string> {
  server = createServer((req, res) => {
    req.resume();
    res.writeHead(status, { "content-length": "2" }).end("ok");
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe("quantiles", () => {
  it("take the nearest rank, so p99 of 100 values is the 99th", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(values, 0.5)).toBe(50);
    expect(quantile(values, 0.99)).toBe(99);
    expect(quantile(values, 1)).toBe(100);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBe(0);
  });
});

describe("steady load", () => {
  it("spreads requests evenly over each second", () => {
    expect([0, 1, 2, 50].map((i) => dueAtMs(i, 50))).toEqual([0, 20, 40, 1000]);
  });

  it("sends rate × duration requests on schedule and counts every answer", async () => {
    const url = await origin();
    const report = await runPaced({ url, rate: 100, durationS: 1, timeoutS: 5 });
    expect(report.requests).toBe(100);
    expect(report.errors).toEqual({ connect: 0, read: 0, write: 0, status: 0, timeout: 0 });
    // The run lasts its schedule: the last request falls due at 0.99 s (a timer may fire a millisecond early).
    expect(report.durationUs / 1e6).toBeGreaterThan(0.95);
    expect(report.durationUs / 1e6).toBeLessThan(2);
  });

  it("counts a stall from when each request was due, not from when it could be sent", async () => {
    const url = await origin();
    // The generator itself is held for 300 ms a third of the way in: about 30 requests fall due meanwhile.
    setTimeout(() => {
      const until = performance.now() + 300;
      while (performance.now() < until) {
        // busy: nothing runs on this event loop
      }
    }, 300);
    const report = await runPaced({ url, rate: 100, durationS: 1, timeoutS: 5 });
    expect(report.requests).toBe(100);
    // A generator that started each clock at the send would see about 1 ms everywhere.
    expect(report.latencyUs.max / 1000).toBeGreaterThan(250);
    expect(report.latencyUs.p90 / 1000).toBeGreaterThan(50);
  });

  it("counts answers of 400 and above as status errors and refused connections as connect errors", async () => {
    const failing = await runPaced({ url: await origin(503), rate: 50, durationS: 0.2, timeoutS: 5 });
    expect(failing.errors.status).toBe(10);
    const port = await deadPort();
    const refused = await runPaced({ url: `http://127.0.0.1:${port}/`, rate: 50, durationS: 0.2, timeoutS: 5 });
    expect(refused.errors.connect).toBe(10);
    expect(refused.requests).toBe(0);
  });
});

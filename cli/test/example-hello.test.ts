import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHello } from "./support/hello.ts";

// The tutorial's origin, examples/hello/server.mjs, run as a user runs it.

const server = join(import.meta.dirname, "..", "..", "examples", "hello", "server.mjs");

function runHello(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [server, ...args], { stdio: ["ignore", "pipe", "pipe"] });
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
      reject(new Error(`server.mjs ${args.join(" ")} was still running after 5 s: ${stdout}${stderr}`));
    }, 5_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let holder: Server;
let busyPort: number;

beforeAll(async () => {
  // Another process's server on the port: what a leftover hello from an earlier run looks like.
  holder = createServer((_, res) => res.end("leftover"));
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  busyPort = (holder.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => holder.close(resolve));
});

describe("examples/hello/server.mjs", () => {
  it("on a busy port prints one clear line, no stack trace, and exits 1", async () => {
    const result = await runHello(["1.0.1", String(busyPort)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `hello 1.0.1: port ${busyPort} is already in use (an older hello still running?); stop that process or choose another port\n`,
    );
  });

  it("on a free port says where it listens and answers with its version", async () => {
    const hello = await startHello("1.0.1");
    try {
      const answer = (await (await fetch(`${hello.url}/x`)).json()) as { version: string };
      expect(answer.version).toBe("1.0.1");
    } finally {
      await hello.stop();
    }
  });
});

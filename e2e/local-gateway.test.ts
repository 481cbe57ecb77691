import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../scripts/gateway.ts";
import { freePort } from "../scripts/ports.ts";

// `npm run dev` as users run it: a gateway that a shadow's gzip bomb cannot blow up, that
// stops when its npm process is told to or dies, and that refuses a busy port before it starts.

const root = join(import.meta.dirname, "..");
const MiB = 1024 * 1024;
const token = `t-${crypto.randomUUID()}`;
let stateDir: string;
let gateway: RunningGateway;
const servers: Server[] = [];

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${gateway.url}/api/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...init.headers },
  });

async function deploy(name: string, version: string, origin: string): Promise<void> {
  const response = await api("/services", {
    method: "POST",
    body: JSON.stringify({ name, version, origin, check: false }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
}

/** The live processes of a process group, as /proc has them: pid and command name. */
async function processGroup(pgid: number): Promise<{ pid: number; comm: string }[]> {
  const found: { pid: number; comm: string }[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses, so split after its last ")".
    const close = stat.lastIndexOf(")");
    const [state, , pgrp] = stat.slice(close + 2).split(" ");
    if (close < 0 || Number(pgrp) !== pgid || state === "Z") continue;
    found.push({ pid: Number(entry), comm: stat.slice(stat.indexOf("(") + 1, close) });
  }
  return found;
}

/** Resident memory of the gateway's workerd processes together, in bytes. */
async function workerdRss(pgid: number): Promise<number> {
  let total = 0;
  for (const { pid, comm } of await processGroup(pgid)) {
    if (comm !== "workerd") continue;
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    total += Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * 1024;
  }
  return total;
}

const refuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "daeploy-edge-local-"));
  gateway = await startGateway({ token, stateDir, viaNpm: true });
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe("npm run dev", () => {
  it("keeps workerd's memory when a shadow answers a gzip bomb: every client 200, each copy over the cap", async () => {
    // 100 MiB of zeros is about 100 KiB of gzip; the runtime undoes it as the body is read.
    const bomb = gzipSync(Buffer.alloc(100 * MiB));
    expect(bomb.byteLength).toBeLessThan(110 * 1024);
    // Alike in status and headers, so each copy counts as notCompared (its body over the cap), not different.
    const main = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true }));
    });
    const shadow = await listen((_req, res) => {
      res.writeHead(200, {
        "content-type": "application/json",
        "content-encoding": "gzip",
        "content-length": String(bomb.byteLength),
      });
      res.end(bomb);
    });
    const name = `bomb_${crypto.randomUUID().slice(0, 6)}`;
    await deploy(name, "1.0.0", main);
    // Warm up the isolate on main alone, so what is measured is what the copies cost.
    for (let i = 0; i < 8; i++) expect((await fetch(`${gateway.url}/services/${name}/`)).status).toBe(200);
    await sleep(1_000);
    const before = await workerdRss(gateway.pid);
    expect(before).toBeGreaterThan(0);
    await deploy(name, "2.0.0", shadow);

    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await workerdRss(gateway.pid));
        await sleep(20);
      }
    })();
    const answers = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const response = await fetch(`${gateway.url}/services/${name}/`);
        return { status: response.status, body: await response.text() };
      }),
    );
    // Until the copies are counted, the gateway may still be reading them.
    let notCompared = 0;
    const deadline = Date.now() + 20_000;
    while (notCompared < 16 && Date.now() < deadline) {
      await sleep(250);
      const report = (await (await api(`/services/${name}/report`)).json()) as {
        shadows: { version: string; requests: { notCompared: number } }[];
      };
      notCompared = report.shadows.find((s) => s.version === "2.0.0")?.requests.notCompared ?? 0;
    }
    await sleep(500);
    sampling = false;
    await sampler;

    expect(answers.map((a) => a.status)).toEqual(Array(16).fill(200));
    expect(answers.every((a) => a.body === '{"ok":true}')).toBe(true);
    expect(notCompared).toBe(16);
    const grewMiB = (peak - before) / MiB;
    console.log(`workerd RSS ${(before / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB over 16 bombs`);
    expect(grewMiB).toBeLessThan(64);
  }, 90_000);

  it("stops wrangler and workerd and frees the port within 5 s of kill -TERM <npm pid>", async () => {
    expect(await refuses(gateway.port)).toBe(false);
    const group = await processGroup(gateway.pid);
    expect(group.map((p) => p.comm)).toContain("workerd");
    // npm alone, not its group: what `kill <pid>` from another terminal does.
    process.kill(gateway.pid, "SIGTERM");
    const started = Date.now();
    while (!(await refuses(gateway.port)) && Date.now() - started < 5_000) await sleep(50);
    expect(await refuses(gateway.port), "the port still answers 5 s after SIGTERM").toBe(true);
    while ((await processGroup(gateway.pid)).length > 0 && Date.now() - started < 5_000) await sleep(50);
    expect(await processGroup(gateway.pid)).toEqual([]);
  }, 20_000);

  it("goes away, with wrangler and workerd, when what started it dies while it applies its migrations", async () => {
    // A starter that starts scripts/dev.mjs as scripts/gateway.ts does (a group of its own), waits until
    // it has a child (the migrations, which block it for seconds), prints its pid and dies: as a test
    // runner killed in the middle of its set-up does.
    const starter = `
      const { spawn } = require("node:child_process");
      const { readdirSync, readFileSync } = require("node:fs");
      const [script, ...args] = process.argv.slice(1);
      const dev = spawn(process.execPath, [script, ...args], { detached: true, stdio: "ignore" });
      const parentOf = (pid) => {
        try {
          const stat = readFileSync("/proc/" + pid + "/stat", "utf8");
          return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        } catch { return 0; }
      };
      const poll = setInterval(() => {
        if (!readdirSync("/proc").some((entry) => /^\\d+$/.test(entry) && parentOf(entry) === dev.pid)) return;
        clearInterval(poll);
        console.log(dev.pid);
        process.exit(0);
      }, 10);
    `;
    const dir = await mkdtemp(join(tmpdir(), "daeploy-edge-orphan-"));
    const envFile = join(dir, "vars");
    await writeFile(envFile, `ADMIN_TOKEN=${token}\n`);
    const port = await freePort();
    const args = ["--port", String(port), "--persist-to", join(dir, "state"), "--env-file", envFile, "--no-cron"];
    let pid = 0;
    try {
      const printed = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ["-e", starter, join(root, "scripts", "dev.mjs"), ...args], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (chunk) => {
          out += chunk;
        });
        child.once("error", reject);
        child.once("exit", () => resolve(out));
      });
      pid = Number(printed.trim());
      expect(pid, printed).toBeGreaterThan(0);
      const deadline = Date.now() + 20_000;
      while ((await processGroup(pid)).length > 0 && Date.now() < deadline) await sleep(100);
      expect(await processGroup(pid), "the gateway outlived what started it").toEqual([]);
      expect(await refuses(port)).toBe(true);
    } finally {
      if (pid > 0 && (await processGroup(pid)).length > 0) process.kill(-pid, "SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  }, 40_000);

  it("fails at once, in one line and before any banner, on a port that is taken", async () => {
    const holder = createTcpServer();
    const port = await freePort();
    await new Promise<void>((resolve) => holder.listen(port, "127.0.0.1", resolve));
    try {
      const child = spawn("npm", ["run", "dev", "--", "--port", String(port)], {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_COLOR: "1" },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
      });
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
      });
      const started = Date.now();
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).not.toBe(0);
      // wrangler alone takes longer than this to start; the check comes before it.
      expect(Date.now() - started).toBeLessThan(10_000);
      const lines = stderr.trim().split("\n");
      expect(lines, stderr).toHaveLength(1);
      expect(lines[0]).toContain(`127.0.0.1:${port} is in use`);
      expect(stdout).not.toContain("daeploy-edge gateway:");
      expect(stdout).not.toContain("wrangler");
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 20_000);
});

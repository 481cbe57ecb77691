#!/usr/bin/env node
// `npm run dev [-- <wrangler dev args>]`: the gateway on http://127.0.0.1:8787 with a
// migrated local D1 and the admin token from .dev.vars, on a fresh clone and offline.
// `--env-file F` reads the token (and any vars) from F instead, and leaves .dev.vars alone;
// `--no-cron` turns off the once-a-minute health probe (scripts/gateway.ts uses both for tests).
// It stops as a process should: SIGINT, SIGTERM or SIGHUP to it, or to the `npm run dev` that
// started it, stops wrangler and workerd and frees the port; so does the death of what started it.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// Who started this, read before anything else: the migrations below block for seconds, and a parent that
// dies meanwhile must still be noticed (see the end of this file).
const parent = process.ppid;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const cron = !process.argv.includes("--no-cron");
const args = process.argv.slice(2).filter((a) => a !== "--no-cron");

const optionValue = (name) => {
  const at = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (at === -1) return undefined;
  return args[at].includes("=") ? args[at].slice(name.length + 1) : args[at + 1];
};

const ip = optionValue("--ip") ?? "127.0.0.1";
const port = optionValue("--port") ?? "8787";

/** Whether something already listens where wrangler would: `null` when free, else the error's code. */
const portTaken = () =>
  new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (error) => resolve(error.code ?? "unavailable"));
    probe.listen(Number(port), ip, () => probe.close(() => resolve(null)));
  });

// Before anything else, so a second `npm run dev` says why in one line instead of after a page of wrangler output.
const taken = await portTaken();
if (taken !== null) {
  const why = taken === "EADDRINUSE" ? "is in use (another `npm run dev`?)" : `cannot be listened on (${taken})`;
  console.error(`daeploy-edge: ${ip}:${port} ${why}; stop what holds it, or pick another: npm run dev -- --port 8790`);
  process.exit(1);
}

const envFile = optionValue("--env-file");
const devVars = join(root, ".dev.vars");
if (!envFile && !existsSync(devVars)) {
  copyFileSync(join(root, ".dev.vars.example"), devVars);
  console.log("Created .dev.vars from .dev.vars.example");
}
const secrets = envFile ? resolve(envFile) : devVars;
const secretsText = readFileSync(secrets, "utf8");
const secretValue = (name) =>
  new RegExp(`^${name}=(.*)$`, "m")
    .exec(secretsText)?.[1]
    ?.trim()
    .replace(/^"(.*)"$/, "$1");
const token = secretValue("ADMIN_TOKEN");
// wrangler.toml's [secrets] lists the required ones, and wrangler dev then loads no other secret from
// the file; an optional one is handed over as a local variable instead.
const optionalSecrets = ["READ_TOKEN"].flatMap((name) => {
  const value = secretValue(name);
  return value ? ["--var", `${name}:${value}`] : [];
});

const persistTo = optionValue("--persist-to");
const migrate = spawnSync(
  process.execPath,
  [wrangler, "d1", "migrations", "apply", "DB", "--local", ...(persistTo ? ["--persist-to", persistTo] : [])],
  { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" },
);
if (migrate.status !== 0) {
  process.stderr.write(migrate.stdout + migrate.stderr);
  console.error("Applying the D1 migrations to the local database failed; see above.");
  process.exit(1);
}
// Whoever started this went away while the migrations ran: nobody is left to stop a gateway.
if (process.ppid !== parent) process.exit(1);

const defaults = [
  ...(optionValue("--ip") ? [] : ["--ip", ip]),
  ...(optionValue("--port") ? [] : ["--port", port]),
  "--show-interactive-dev-session=false",
  ...optionalSecrets,
];
console.log(`daeploy-edge gateway: http://${ip}:${port}  (admin token: ${token ?? `see ${secrets}`})`);
console.log(`In another terminal: export DAEPLOY_HOST=http://${ip}:${port} DAEPLOY_TOKEN=${token ?? "<token>"}`);

const child = spawn(process.execPath, [wrangler, "dev", ...defaults, ...args], { cwd: root, env, stdio: "inherit" });

// wrangler stops workerd when it gets the signal; one that hangs is killed after a grace period.
let stopping = false;
const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  child.kill(signal);
  setTimeout(() => child.kill("SIGKILL"), 4_000).unref();
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stop(signal));
// `npm run dev` starts this under `sh -c`, and a signal to npm ends the shell without passing it on: a new
// parent means the one that started this is gone, and the gateway goes with it.
setInterval(() => {
  if (process.ppid !== parent) stop("SIGTERM");
}, 250).unref();

// wrangler dev does not fire Cron Triggers; fire the health probe once a minute as Cloudflare would.
if (cron) {
  const cronUrl = `http://${ip.includes(":") ? `[${ip}]` : ip}:${port}/cdn-cgi/local/scheduled`;
  setInterval(() => fetch(cronUrl).catch(() => {}), 60_000).unref();
}
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 0)));

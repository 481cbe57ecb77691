#!/usr/bin/env node
// `npm test`: the typecheck, the lint and every vitest project, side by side.
//
// One `vitest run` holds back each project whose files run one at a time (cli, e2e and browser each share
// one gateway) until every other file is done, and then runs those three projects one after another.
// Their time is mostly waiting on gateways, origins and the browser, so each gets a vitest of its own
// here and they wait at the same time, beside unit and workers (files in parallel) and the typecheck.
// Each part's output is printed whole when it ends, so parts never interleave; the exit code is the
// first failure's. Arguments (`npm test -- cli/test/gate.test.ts`) skip all this: one `vitest run` with them.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);

/** The longest first: each starts at once, and the order only decides who gets the cores first. */
const parts = [
  { name: "vitest workers, unit", command: bin("vitest"), args: ["run", "--project", "workers", "--project", "unit"] },
  { name: "vitest browser", command: bin("vitest"), args: ["run", "--project", "browser"] },
  { name: "vitest cli", command: bin("vitest"), args: ["run", "--project", "cli"] },
  { name: "vitest e2e", command: bin("vitest"), args: ["run", "--project", "e2e"] },
  { name: "typecheck", command: "npm", args: ["run", "--silent", "typecheck"] },
  { name: "lint", command: "npm", args: ["run", "--silent", "lint"] },
];

function run({ name, command, args }) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: process.env });
    const output = [];
    child.stdout.on("data", (chunk) => output.push(chunk));
    child.stderr.on("data", (chunk) => output.push(chunk));
    const finish = (code) => {
      const seconds = Math.round((Date.now() - started) / 1000);
      process.stdout.write(`\n── ${name}: ${code === 0 ? "passed" : `FAILED (exit ${code})`} in ${seconds} s ──\n`);
      process.stdout.write(Buffer.concat(output));
      resolve({ name, code, seconds });
    };
    child.on("error", (error) => {
      output.push(Buffer.from(`${error.message}\n`));
      finish(1);
    });
    child.on("close", (code, signal) => finish(code ?? (signal ? 1 : 0)));
  });
}

const extra = process.argv.slice(2);
if (extra.length > 0) {
  const result = await run({ name: "vitest", command: bin("vitest"), args: ["run", ...extra] });
  process.exitCode = result.code;
} else {
  const started = Date.now();
  const results = await Promise.all(parts.map(run));
  const total = Math.round((Date.now() - started) / 1000);
  process.stdout.write(`\n── npm test in ${total} s ──\n`);
  for (const { name, code, seconds } of results) {
    process.stdout.write(`  ${code === 0 ? "passed" : "FAILED"}  ${String(seconds).padStart(4)} s  ${name}\n`);
  }
  process.exitCode = results.find((result) => result.code !== 0)?.code ?? 0;
}

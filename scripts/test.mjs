#!/usr/bin/env node
// `npm test`: the typecheck, the lint and every vitest project, side by side.
//
// One `vitest run` holds back each project whose files run one at a time (cli, e2e and browser each share
// one gateway) until every other file is done, and then runs those projects one after another. Their time
// is mostly waiting on gateways, origins, CLI processes and the browser, so here each gets a vitest of its
// own and they wait at the same time, beside workers, unit (files in parallel, each in a vitest of its own, so
// that unit's files, which mostly take a core, do not hold up workers' two at a time) and the typecheck. The
// cli files, the longest of those chains, are split in two vitests: each starts a gateway of its own from
// the project's global setup, and runs its half one file at a time, as the project says.
// Each part's output is printed whole when it ends, so parts never interleave; the exit code is the
// first failure's. Arguments (`npm test -- cli/test/gate.test.ts`) skip all this: one `vitest run` with them.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { setPriority } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);

/** The cli project's files in two halves of about the same size (a file's size stands in for its time). */
function cliHalves() {
  const files = readdirSync(join(root, "cli", "test"))
    .filter((file) => file.endsWith(".test.ts"))
    .map((file) => ({ path: `cli/test/${file}`, size: statSync(join(root, "cli", "test", file)).size }))
    .sort((a, b) => b.size - a.size);
  const halves = [
    { paths: [], size: 0 },
    { paths: [], size: 0 },
  ];
  for (const file of files) {
    const lighter = halves[0].size <= halves[1].size ? halves[0] : halves[1];
    lighter.paths.push(file.path);
    lighter.size += file.size;
  }
  return halves.map((half) => half.paths);
}

/**
 * An npm script's `&&` steps as parts of their own: the five tsc runs of the typecheck are one core's work
 * each, and one after another they are the longest part on a busy machine.
 */
function steps(script) {
  const { scripts } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  return scripts[script].split(" && ").map((step) => ({ name: `${script}: ${step}`, command: step, shell: true }));
}

const vitest = (name, ...args) => ({ name: `vitest ${name}`, command: bin("vitest"), args: ["run", ...args] });
const [cliFirst, cliSecond] = cliHalves();
/**
 * The longest first: each starts at once, and the order only decides who gets the cores first. The workers
 * part ends last by minutes; every other part runs at a lower priority (its processes, and the gateways and
 * workerd they start, inherit it), so it takes the cores only when workers leaves them idle.
 */
const parts = [
  { ...vitest("workers", "--project", "workers"), first: true },
  vitest("unit", "--project", "unit"),
  vitest("cli (first half)", "--project", "cli", ...cliFirst),
  vitest("cli (second half)", "--project", "cli", ...cliSecond),
  vitest("browser", "--project", "browser"),
  vitest("e2e", "--project", "e2e"),
  ...steps("typecheck"),
  ...steps("lint"),
];

/** As `npm run` does, the project's own binaries come first on the PATH. */
const env = { ...process.env, PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}` };

/** The niceness of every part but the longest: low enough to yield, not so low that its gateways' timeouts run out. */
const YIELDING = 10;

/**
 * A part still running after this long is stuck (the longest takes about five minutes on a busy machine):
 * it is stopped with everything it started, and fails with what it printed so far, which names the file it
 * was in, rather than holding CI until CI's own limit ends it silently. TEST_PART_LIMIT_MS sets another.
 */
const PART_LIMIT_MS = Number(process.env.TEST_PART_LIMIT_MS ?? 15 * 60_000);

/** Each running part's process group, stopped with it when `npm test` is interrupted. */
const groups = new Set();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const pid of groups) stopGroup(pid);
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

function stopGroup(pid) {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function run({ name, command, args = [], shell = false, first = false }) {
  const started = Date.now();
  return new Promise((resolve) => {
    // A group of its own, so that a stuck part is stopped with its gateways and workerd.
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env, shell, detached: true });
    // Set before the part has started anything: a process takes the niceness of its parent when it starts.
    if (!first && child.pid !== undefined) setPriority(child.pid, YIELDING);
    if (child.pid !== undefined) groups.add(child.pid);
    const output = [];
    child.stdout.on("data", (chunk) => output.push(chunk));
    child.stderr.on("data", (chunk) => output.push(chunk));
    const limit = setTimeout(() => {
      output.push(
        Buffer.from(`\n${name} was still running after ${Math.round(PART_LIMIT_MS / 1000)} s, and was stopped\n`),
      );
      stopGroup(child.pid);
      // A process that left the group may still hold the part's output open: stop listening to it.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(1);
      }, 5_000);
    }, PART_LIMIT_MS);
    let finished = false;
    const finish = (code) => {
      if (finished) return;
      finished = true;
      clearTimeout(limit);
      groups.delete(child.pid);
      const seconds = Math.round((Date.now() - started) / 1000);
      process.stdout.write(`\n── ${name}: ${code === 0 ? "passed" : `FAILED (exit ${code})`} in ${seconds} s ──\n`);
      process.stdout.write(Buffer.concat(output));
      resolve({ name, code, seconds, output: Buffer.concat(output).toString("utf8") });
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
  // One part: its output as it comes.
  const child = spawn(bin("vitest"), ["run", ...extra], { cwd: root, stdio: "inherit", env });
  child.on("close", (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
} else {
  const started = Date.now();
  const results = await Promise.all(parts.map(run));
  const total = Math.round((Date.now() - started) / 1000);
  process.stdout.write(`\n── npm test in ${total} s ──\n`);
  for (const { name, code, seconds } of results) {
    process.stdout.write(`  ${code === 0 ? "passed" : "FAILED"}  ${String(seconds).padStart(4)} s  ${name}\n`);
  }
  // CI keeps only the end of what a run prints: each failed part's failing lines are repeated last.
  for (const { name, output } of results.filter((result) => result.code !== 0)) {
    process.stdout.write(`\n── why ${name} failed ──\n${failingLines(output).join("\n")}\n`);
  }
  process.exitCode = results.find((result) => result.code !== 0)?.code ?? 0;
}

/**
 * What a failed part says of why, at most 40 lines: each vitest FAIL line with the two lines after it (the
 * error and its message), or, where a part failed without one (tsc, lint), its last 20 lines.
 */
function failingLines(output) {
  const lines = stripVTControlCharacters(output).split("\n");
  const stopped = lines.findIndex((line) => / was still running after /.test(line));
  // A stuck part: where it was, from the last lines it printed before it was stopped.
  if (stopped >= 0)
    return lines
      .slice(0, stopped + 1)
      .filter((line) => line.trim() !== "")
      .slice(-20);
  const failures = lines.flatMap((line, at) => (/^ FAIL /.test(line) ? lines.slice(at, at + 3) : []));
  return (failures.length > 0 ? failures : lines.filter((line) => line.trim() !== "").slice(-20)).slice(0, 40);
}

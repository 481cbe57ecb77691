import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../../..");
const biome = join(root, "node_modules", "@biomejs", "biome", "bin", "biome");

/** A function whose body (between its braces) is `lines` lines long. */
const functionOf = (lines: number): string =>
  [
    "export function sum(): number {",
    "  let total = 0;",
    ...Array.from({ length: lines - 2 }, (_, i) => `  total += ${i};`),
    "  return total;",
    "}",
    "",
  ].join("\n");

/** A file of `lines` lines, each a one-line declaration. */
const fileOf = (lines: number): string =>
  Array.from({ length: lines }, (_, i) => `export const n${i} = ${i};\n`).join("");

let tree: string;

/** `npm run lint`'s Biome check, with the repository's biome.json, on one file of a scratch tree. */
async function lint(path: string, text: string): Promise<{ ok: boolean; output: string }> {
  await mkdir(dirname(join(tree, path)), { recursive: true });
  await writeFile(join(tree, path), text);
  // The scratch tree is no git checkout: the config's VCS settings (its .gitignore) are off here.
  const args = [biome, "lint", "--vcs-enabled=false", path];
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: tree });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${stdout}${stderr}` };
  }
}

beforeAll(async () => {
  tree = await mkdtemp(join(tmpdir(), "lint-length-"));
  await copyFile(join(root, "biome.json"), join(tree, "biome.json"));
});

afterAll(async () => {
  await rm(tree, { recursive: true, force: true });
});

describe("the length rules for worker/src (Biome in npm run lint)", { timeout: 30_000 }, () => {
  it("fail on a function of 81 lines, and pass one of 80", async () => {
    const long = await lint("worker/src/long.ts", functionOf(81));
    expect(long.ok).toBe(false);
    expect(long.output).toContain("lint/complexity/noExcessiveLinesPerFunction");
    expect(long.output).toContain("This function has too many lines (81). Maximum allowed is 80.");
    expect((await lint("worker/src/fits.ts", functionOf(80))).ok).toBe(true);
  });

  it("fail on a file of 401 lines, and pass one of 400", async () => {
    const long = await lint("worker/src/big.ts", fileOf(401));
    expect(long.ok).toBe(false);
    expect(long.output).toContain("lint/style/noExcessiveLinesPerFile");
    expect((await lint("worker/src/full.ts", fileOf(400))).ok).toBe(true);
  });

  it("leave tests, the CLI and the bench alone", async () => {
    expect((await lint("worker/test/long.test.ts", functionOf(200))).ok).toBe(true);
    expect((await lint("cli/src/long.ts", functionOf(200))).ok).toBe(true);
  });

  it("still apply the rest of the config inside worker/src", async () => {
    const asserted = await lint("worker/src/asserted.ts", "export const first = (xs: number[]): number => xs[0]!;\n");
    expect(asserted.ok).toBe(false);
    expect(asserted.output).toContain("lint/style/noNonNullAssertion");
  });

  it("hold on the worker as it is", async () => {
    // execFile rejects on a non-zero exit, with Biome's findings.
    await expect(run(process.execPath, [biome, "lint", "worker/src"], { cwd: root })).resolves.toBeDefined();
  });
});

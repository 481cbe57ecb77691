import { execFileSync, spawnSync } from "node:child_process";
import { cp, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

// bin/daeploy-edge.mjs as `npx daeploy-edge` runs it in a clone: it builds dist/ when it is missing,
// and in a git checkout again when a source is newer than the bundle (after a `git pull`), but never
// in the packed package, and never in a test run, where the global setup has just built it.

const root = join(import.meta.dirname, "..", "..");
const { scratchDir } = inject("cliWorld");

let clone: string;

/** `node bin/daeploy-edge.mjs --version` in a directory: its exit code, the version, and whether it built. */
function runBin(dir: string) {
  const result = spawnSync(process.execPath, [join(dir, "bin", "daeploy-edge.mjs"), "--version"], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", NO_COLOR: "1" },
  });
  const building = result.stderr.split("\n").find((line) => line.startsWith("Building dist/cli.mjs"));
  return { code: result.status, version: result.stdout.trim(), building, stderr: result.stderr };
}

const builtAt = async (dir: string) => (await stat(join(dir, "dist", "cli.mjs"))).mtimeMs;

/** Marks a file as changed now, after the bundle was built, as `git pull` writing it would. */
async function changedAfterBuild(dir: string, path: string) {
  const later = new Date(Math.max(Date.now(), (await builtAt(dir)) + 1));
  await utimes(join(dir, path), later, later);
}

beforeAll(async () => {
  // What a clone holds that the build reads, with the project's node_modules for esbuild and the bundled packages.
  clone = await mkdtemp(join(scratchDir, "clone-"));
  for (const path of [
    "bin",
    "scripts",
    "cli/src",
    "worker/src",
    "cli/tsconfig.json",
    "tsconfig.json",
    "package.json",
  ]) {
    await cp(join(root, path), join(clone, path), { recursive: true });
  }
  await symlink(join(root, "node_modules"), join(clone, "node_modules"));
  execFileSync("git", ["init", "--quiet"], { cwd: clone });
});

afterAll(async () => {
  await rm(clone, { recursive: true, force: true });
});

describe("the bin in a git checkout", () => {
  it("builds dist/ on the first run, and only then", async () => {
    const { version } = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { version: string };
    const first = runBin(clone);
    expect(first).toMatchObject({ code: 0, version });
    expect(first.building).toBe("Building dist/cli.mjs: it is not built yet (`npm run build` builds it too)");
    const built = await builtAt(clone);
    const second = runBin(clone);
    expect(second).toMatchObject({ code: 0, version, building: undefined });
    expect(await builtAt(clone)).toBe(built);
  });

  it("rebuilds when a worker module the CLI bundles is newer than dist/cli.mjs", async () => {
    await changedAfterBuild(clone, "worker/src/registry/edit-distance.ts");
    const result = runBin(clone);
    expect(result.code).toBe(0);
    expect(result.building).toBe(
      "Building dist/cli.mjs: worker/src/registry/edit-distance.ts changed since it was built (`npm run build` builds it too)",
    );
    expect(runBin(clone).building).toBeUndefined();
  });

  it("runs the new code, not the old bundle, after a source changed (a pull bumping the version)", async () => {
    const manifest = join(clone, "package.json");
    const pkg = JSON.parse(await readFile(manifest, "utf8")) as { version: string };
    await writeFile(manifest, JSON.stringify({ ...pkg, version: "99.0.0" }));
    await changedAfterBuild(clone, "package.json");
    const result = runBin(clone);
    expect(result).toMatchObject({ code: 0, version: "99.0.0" });
    expect(result.building).toMatch(/^Building dist\/cli\.mjs: package\.json changed since it was built/);
  });

  it("stops in one line, running no stale CLI, when the new sources do not build", async () => {
    const broken = join(clone, "cli", "src", "table.ts");
    const source = await readFile(broken, "utf8");
    await writeFile(broken, `${source}\nexport const = ;\n`);
    await changedAfterBuild(clone, "cli/src/table.ts");
    const result = runBin(clone);
    expect(result.code).toBe(1);
    expect(result.version).toBe("");
    expect(result.stderr).toMatch(
      /^Building dist\/cli\.mjs failed \(Build failed with 1 error.*\); run `npm install`, then `npm run build`$/m,
    );
    expect(result.stderr).not.toMatch(/^\s+at /m);
    await writeFile(broken, source);
  });
});

describe("the bin elsewhere", () => {
  it("outside a git checkout (as installed from the package, which has no sources) never rebuilds", async () => {
    await rm(join(clone, ".git"), { recursive: true });
    await changedAfterBuild(clone, "cli/src/table.ts");
    const built = await builtAt(clone);
    const result = runBin(clone);
    expect(result).toMatchObject({ code: 0, building: undefined });
    expect(await builtAt(clone)).toBe(built);
  });

  it("in this checkout during a test run: dist/ was just built by the global setup, so the bin keeps it", async () => {
    const built = await builtAt(root);
    const result = runBin(root);
    expect(result).toMatchObject({ code: 0, building: undefined });
    expect(await builtAt(root)).toBe(built);
  });
});

import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../../..");
const config = join(root, ".dependency-cruiser.mjs");
const cruiser = join(root, "node_modules", "dependency-cruiser", "bin", "dependency-cruiser.mjs");
const fixtures = join(import.meta.dirname, "fixtures", "layers");

/** `npm run lint`'s layer check, run as lint runs it, on the worker tree under `cwd`. */
async function checkLayers(cwd: string): Promise<{ ok: boolean; output: string }> {
  const args = [cruiser, "--config", config, "--no-progress", "worker/src"];
  const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" };
  try {
    const { stdout } = await run(process.execPath, args, { cwd, env });
    return { ok: true, output: stdout };
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${stdout}${stderr}` };
  }
}

// The four runs at once: each is mostly a Node start and dependency-cruiser loading TypeScript, about a
// second of CPU, which one after another took 24 s of a loaded npm test.
describe.concurrent("the worker's layers (dependency-cruiser in npm run lint)", { timeout: 60_000 }, () => {
  it("hold on the worker as it is", async () => {
    const { ok, output } = await checkLayers(root);
    expect(output).toContain("no dependency violations found");
    expect(ok).toBe(true);
  });

  it("fail on two folders that import each other, though no module imports itself back", async () => {
    const { ok, output } = await checkLayers(join(fixtures, "cycle"));
    expect(ok).toBe(false);
    expect(output).toMatch(
      /error no-folder-cycles: worker\/src\/api\s*→\s*worker\/src\/coordinator\s*→\s*worker\/src\/api/,
    );
    // A type-only import counts: it couples the layers as much as a value.
    expect(output).toContain("coordinator-never-imports-api-rollout-proxy-health-dashboard");
  });

  it("fail on evidence importing the registry, a leaf importing another folder", async () => {
    const { ok, output } = await checkLayers(join(fixtures, "leaf"));
    expect(ok).toBe(false);
    expect(output).toContain(
      "error evidence-imports-only-itself: worker/src/evidence/verdict.ts → worker/src/registry/rules.ts",
    );
  });

  it("pass on a small tree that runs one way", async () => {
    const { ok, output } = await checkLayers(join(fixtures, "clean"));
    expect(output).toContain("no dependency violations found");
    expect(ok).toBe(true);
  });
});

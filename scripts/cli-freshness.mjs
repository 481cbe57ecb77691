// Whether dist/cli.mjs is older than what it was built from, so bin/daeploy-edge.mjs rebuilds it in a
// git checkout after a `git pull`. The build writes the list of its inputs beside the bundle
// (dist/cli-inputs.json, from esbuild's metafile), so deciding costs one small read and a stat per
// input, never a walk of the tree. Plain JavaScript: the bin runs it before anything is built.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** Beside dist/cli.mjs; not in the package, which ships no sources to compare with. */
export const INPUTS_FILE = "cli-inputs.json";

/**
 * Why dist/cli.mjs must be (re)built, in words for the line the bin prints, or undefined when it is
 * at least as new as every input (the normal case, and always so right after a build).
 */
export function whyRebuild(root) {
  const dist = join(root, "dist");
  const built = mtime(join(dist, "cli.mjs"));
  if (built === undefined) return "it is not built yet";
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(join(dist, INPUTS_FILE), "utf8")).inputs;
  } catch {
    // Built by a build that listed no inputs (or the list is damaged): nothing says it is current.
    return "it does not say what it was built from";
  }
  for (const input of inputs) {
    const changed = mtime(join(root, input));
    if (changed === undefined) return `${input}, which it was built from, is gone`;
    if (changed > built) return `${input} changed since it was built`;
  }
  return undefined;
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

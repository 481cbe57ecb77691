import { accessSync, constants } from "node:fs";
import { join } from "node:path";

/**
 * Where Debian's `prometheus` package put a binary (`prometheus`, `promtool`), from PATH.
 * Tests that need one skip with a printed reason on a developer machine without it, and
 * fail under CI (`CI` set), where `.ci/run` installs the package.
 */
export function prometheusTool(name: "prometheus" | "promtool"): { path?: string; skipReason?: string } {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return { path: candidate };
    } catch {
      // not here
    }
  }
  const reason = `${name} is not installed (apt-get install -y prometheus)`;
  if (process.env.CI) throw new Error(`${reason}, and CI must run the Prometheus tests; .ci/run installs it`);
  console.warn(`Skipping the ${name} tests: ${reason}`);
  return { skipReason: reason };
}

import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startTestWorld } from "../../worker/test/support/world.ts";

declare module "vitest" {
  export interface ProvidedContext {
    dashboardWorld: {
      gateway: { url: string; token: string; readToken: string };
      /** v1 and v2 answer with their own version in the body, so v2 always differs from v1 at `body.version`. */
      origins: { v1: string; v2: string; dead: string };
      /** Screenshots of this run (git-ignored). */
      screenshotDir: string;
    };
  }
}

const root = join(import.meta.dirname, "..", "..");

/** A gateway of its own (`npm run dev`, which builds the dashboard), and real origins. */
export default async function setup(project: TestProject) {
  const world = await startTestWorld("browser");
  project.provide("dashboardWorld", {
    gateway: world.gateway,
    origins: world.origins,
    screenshotDir: join(root, "test-results", "dashboard"),
  });
  return world.teardown;
}

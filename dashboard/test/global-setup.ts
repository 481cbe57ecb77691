import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startGateway } from "../../scripts/gateway.ts";
import { deadPort, startOrigin } from "../../worker/test/support/origins.ts";

declare module "vitest" {
  export interface ProvidedContext {
    dashboardWorld: {
      gateway: { url: string; token: string };
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
  const scratchDir = await mkdtemp(join(tmpdir(), "daeploy-edge-browser-"));
  const started = await Promise.allSettled([
    startGateway({ token: `test-${randomUUID()}`, stateDir: join(scratchDir, "gateway") }),
    startOrigin({ version: "1.0.0" }),
    startOrigin({ version: "2.0.0" }),
    deadPort(),
  ]);
  const ok = <T>(result: PromiseSettledResult<T>) => (result.status === "fulfilled" ? result.value : undefined);
  const [gateway, v1, v2, dead] = [ok(started[0]), ok(started[1]), ok(started[2]), ok(started[3])];
  const teardown = async () => {
    await gateway?.stop();
    await Promise.all([v1?.close(), v2?.close()]);
    await rm(scratchDir, { recursive: true, force: true });
  };
  const failure = started.find((result) => result.status === "rejected");
  if (failure || !gateway || !v1 || !v2 || dead === undefined) {
    await teardown();
    throw failure?.reason ?? new Error("the test world did not start");
  }
  project.provide("dashboardWorld", {
    gateway: { url: gateway.url, token: gateway.token },
    origins: { v1: v1.url, v2: v2.url, dead: `http://127.0.0.1:${dead}` },
    screenshotDir: join(root, "test-results", "dashboard"),
  });
  return teardown;
}

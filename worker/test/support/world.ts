import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGateway } from "../../../scripts/gateway.ts";
import { deadPort, startOrigin } from "./origins.ts";

/** What the Node-side test projects (cli, e2e, browser) run against. */
export interface TestWorld {
  /** `readToken` is the gateway's READ_TOKEN: it may read, never change. */
  gateway: { url: string; token: string; readToken: string };
  /** v1 and v2 answer with their own version in the body; `dead` is a port nobody listens on. */
  origins: { v1: string; v2: string; dead: string };
  /** This run's temporary files; removed by `teardown`. */
  scratchDir: string;
  teardown(): Promise<void>;
}

/**
 * A gateway of its own (`npm run dev` with its own state and token, no cron) and two real origins.
 * `alongside` runs at the same time (a build, say); if anything fails, whatever started is stopped.
 */
export async function startTestWorld(
  label: string,
  alongside: Promise<unknown>[] = [],
  /** More `[vars]` for the gateway (Cloudflare Access, say). */
  vars: Record<string, string> = {},
): Promise<TestWorld> {
  const scratchDir = await mkdtemp(join(tmpdir(), `daeploy-edge-${label}-`));
  const readToken = `read-${randomUUID()}`;
  const started = await Promise.allSettled([
    startGateway({
      token: `test-${randomUUID()}`,
      stateDir: join(scratchDir, "gateway"),
      vars: { ...vars, READ_TOKEN: readToken },
    }),
    startOrigin({ version: "1.0.0" }),
    startOrigin({ version: "2.0.0" }),
    deadPort(),
    ...alongside,
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
  return {
    gateway: { url: gateway.url, token: gateway.token, readToken },
    origins: { v1: v1.url, v2: v2.url, dead: `http://127.0.0.1:${dead}` },
    scratchDir,
    teardown,
  };
}

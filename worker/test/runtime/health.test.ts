import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, inject, it } from "vitest";
import worker from "../../src/index.ts";
import { deploy, versionsOf } from "./admin-client.ts";

const origins = inject("origins");
const switchable = inject("switchable");

async function runCron(at: string) {
  const ctx = createExecutionContext();
  worker.scheduled(createScheduledController({ scheduledTime: Date.parse(at), cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const statusOf = async (name: string) =>
  Object.fromEntries((await versionsOf(name)).map((v) => [v.version, [v.status, v.statusSince]]));

const setOrigin = (state: "up" | "down") => fetch(`${switchable.control}/${state}`, { method: "POST" });

it("records origins going down and coming back, moving statusSince only on a change", async () => {
  await setOrigin("up");
  await deploy("health", "1.0.0", switchable.url);
  await deploy("health", "2.0.0", origins.v3); // answers 503: still running
  await deploy("health", "3.0.0", origins.dead);
  expect(Object.values(await statusOf("health")).map(([status]) => status)).toEqual(["unknown", "unknown", "unknown"]);

  await runCron("2026-01-01T10:00:00Z");
  expect(await statusOf("health")).toEqual({
    "1.0.0": ["running", "2026-01-01T10:00:00.000Z"],
    "2.0.0": ["running", "2026-01-01T10:00:00.000Z"],
    "3.0.0": ["unreachable", "2026-01-01T10:00:00.000Z"],
  });

  await runCron("2026-01-01T10:01:00Z");
  expect((await statusOf("health"))["1.0.0"]).toEqual(["running", "2026-01-01T10:00:00.000Z"]);

  await setOrigin("down");
  await runCron("2026-01-01T10:02:00Z");
  expect(await statusOf("health")).toEqual({
    "1.0.0": ["unreachable", "2026-01-01T10:02:00.000Z"],
    "2.0.0": ["running", "2026-01-01T10:00:00.000Z"],
    "3.0.0": ["unreachable", "2026-01-01T10:00:00.000Z"],
  });

  await setOrigin("up");
  await runCron("2026-01-01T10:03:00Z");
  expect((await statusOf("health"))["1.0.0"]).toEqual(["running", "2026-01-01T10:03:00.000Z"]);
});

import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, inject, it, vi } from "vitest";
import { probeAllOrigins } from "../../src/health/cron.ts";
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

/** The real D1, except that writing any row of `name` fails, as a D1 hiccup would. */
function failingWritesOf(name: string): D1Database {
  return new Proxy(env.DB, {
    get(target, property) {
      if (property !== "prepare") return Reflect.get(target, property, target);
      return (query: string) => {
        const statement = target.prepare(query);
        return new Proxy(statement, {
          get(inner, key) {
            if (key !== "bind") return Reflect.get(inner, key, inner);
            return (...values: unknown[]) => {
              if (/^update/i.test(query) && values.includes(name)) throw new Error(`D1 refused the write of ${name}`);
              return inner.bind(...values);
            };
          },
        });
      };
    },
  });
}

it("logs a failure with one origin and still probes and records every other", async () => {
  await deploy("health_broken", "1.0.0", origins.v1);
  await deploy("health_fine", "1.0.0", origins.v2);
  await deploy("health_fine", "2.0.0", origins.dead);
  const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
  try {
    const summary = await probeAllOrigins(
      { ...env, DB: failingWritesOf("health_broken") },
      new Date("2026-01-02T00:00:00Z"),
    );
    // drizzle wraps the driver's error in one that names the failed query.
    expect(summary.failed).toEqual([{ origin: origins.v1, reason: expect.stringContaining("Failed query: update") }]);
    const logged = errors.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
    expect(logged).toContainEqual({
      event: "health_failed",
      origin: origins.v1,
      reason: summary.failed[0]?.reason,
    });
  } finally {
    errors.mockRestore();
  }
  expect(await statusOf("health_fine")).toEqual({
    "1.0.0": ["running", "2026-01-02T00:00:00.000Z"],
    "2.0.0": ["unreachable", "2026-01-02T00:00:00.000Z"],
  });
  expect((await statusOf("health_broken"))["1.0.0"]?.[0]).toBe("unknown");
});

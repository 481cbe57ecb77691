import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { AssignResult } from "../../src/coordinator/results.ts";
import type { ServiceRecord } from "../../src/registry/records.ts";
import { type ApiBody, api, deploy, recordEvidence, versionsOf } from "./admin-client.ts";

const origins = inject("origins");

/** A policy row never outlives its name: a kill cannot race a policy write into an orphan. */
async function expectNoOrphanPolicy(name: string, versions: unknown[]) {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM policies WHERE name = ?")
    .bind(name)
    .first<{ n: number }>();
  if (versions.length === 0) expect(row?.n, `${name}: policy without versions`).toBe(0);
}

/** I1 as seen by a reader: a name with versions has exactly one main. */
async function expectOneMainOrNone(name: string) {
  const versions = await versionsOf(name);
  if (versions.length > 0) {
    expect(
      versions.filter((v) => v.main).map((v) => v.version),
      `${name}: ${JSON.stringify(versions)}`,
    ).toHaveLength(1);
  }
  return versions;
}

/**
 * A running rollout is of a deployed shadow whose canary share is its step's; no other version
 * has a canary share (nothing in this test sets one by hand); a name without versions has no rollout.
 */
async function expectRolloutConsistent(name: string, versions: ServiceRecord[]) {
  const row = await env.DB.prepare("SELECT version, state, steps, step FROM rollouts WHERE name = ?")
    .bind(name)
    .first<{ version: string; state: string; steps: string; step: number }>();
  if (versions.length === 0) expect(row, `${name}: rollout without versions`).toBeNull();
  const running = row?.state === "running" ? row : undefined;
  for (const v of versions) {
    const expected = running?.version === v.version ? (JSON.parse(running.steps) as number[])[running.step] : 0;
    expect(v.canaryPercent, `${name} ${v.version}: ${JSON.stringify(row)}`).toBe(expected);
  }
  if (running) {
    const target = versions.find((v) => v.version === running.version);
    expect(target?.main, `${name}: running rollout of ${running.version}, ${JSON.stringify(versions)}`).toBe(false);
  }
}

describe("ServiceCoordinator under concurrency", () => {
  it("gives exactly one main when 30 versions of a new name are deployed at once", async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => deploy("race_deploy", `1.0.${i}`, origins.v1)),
    );
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(201));
    expect(results.filter((r) => r.body.main)).toHaveLength(1);
    expect(await expectOneMainOrNone("race_deploy")).toHaveLength(30);
  });

  it("accepts exactly one of 30 concurrent deploys of the same version, the rest 409", async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => deploy("race_same", "1.0.0", origins.v1)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(29);
  });

  // Many rounds of real D1 writes: generous time, since this asserts correctness, not speed.
  it("never leaves shadows without a main, nor a policy without a name, nor answers 5xx, when assign (through the gate), kill, deploy, PATCH, policy writes and rollout starts, aborts and cron ticks race", {
    timeout: 90_000,
  }, async () => {
    const name = "race_mixed";
    const rounds = 25;
    for (let round = 0; round < rounds; round++) {
      const versions = ["1.0.0", "2.0.0", "3.0.0", "4.0.0"];
      for (const version of versions) await deploy(name, version, origins.v1);
      // 4.0.0 differs on half its answers: it fails the gate unless the policy write lands first.
      // 2,000 requests with latencies: enough for a pass at any look once the differences are allowed.
      await recordEvidence(name, "4.0.0", {
        compared: 2000,
        different: { "body.price": 1000 },
        latencyMs: { main: 20, shadow: 20 },
      });
      // Every call that could leave a name headless, or a policy orphaned, fired at once in a different order each round.
      const assign = (version: string, force?: boolean) =>
        api<AssignResult>("PUT", `/services/${name}/main`, { body: { version, force } });
      const calls = [
        () => assign("2.0.0"),
        () => assign("3.0.0"),
        () => assign("4.0.0"),
        () => assign("4.0.0", true),
        () => api("DELETE", `/services/${name}/1.0.0`),
        () => api("DELETE", `/services/${name}/2.0.0`),
        () => api("DELETE", `/services/${name}/3.0.0`),
        () => api("DELETE", `/services/${name}/4.0.0`),
        () => api("PUT", `/services/${name}/policy`, { body: { gate: { maxDiffRate: 0.6 } } }),
        () => api("PATCH", `/services/${name}/3.0.0`, { body: { mirrorPercent: 10 } }),
        () => (round % 3 === 0 ? api("DELETE", `/services/${name}`) : api("GET", `/services/${name}`)),
        () => deploy(name, "5.0.0", origins.v2),
        // Rollout transitions: start, abort, and the cron's tick (a moved clock, so a step may be decided).
        () => api("POST", `/services/${name}/3.0.0/rollout`, { body: { steps: [5, 25], stepMinutes: 1 } }),
        () => api("POST", `/services/${name}/4.0.0/rollout`, { body: { steps: [10] } }),
        () => api("DELETE", `/services/${name}/rollout`),
        async () => {
          const outcome = await env.SERVICE_COORDINATOR.getByName(name).tickRollout(name, Date.now() + 5 * 60_000);
          return { status: outcome.ok ? 200 : outcome.status, body: (outcome.ok ? {} : outcome.body) as ApiBody };
        },
      ];
      const shuffled = calls
        .map((call, i) => ({ call, i, key: (i * 7 + round * 13) % calls.length }))
        .sort((a, b) => a.key - b.key);
      const results = await Promise.all(shuffled.map(({ call }) => call()));
      for (const result of results) expect(result.status, JSON.stringify(result.body)).toBeLessThan(500);
      // The gate decided on what it read in the same step: an unforced 4.0.0 became main only on a pass,
      // or with no evidence at all when another promotion came first (its evidence was against 1.0.0).
      const unforced = results[shuffled.findIndex(({ i }) => i === 2)];
      if (unforced?.status === 200 && unforced.body.changed) {
        const judged = (unforced.body as AssignResult).verdict;
        if (judged?.verdict !== "pass")
          expect(judged).toMatchObject({ verdict: "inconclusive", requests: { mirrored: 0 } });
      } else if (unforced?.status === 409) {
        expect(unforced.body.error?.code).toBe("gate_failed");
      }
      const left = await expectOneMainOrNone(name);
      await expectNoOrphanPolicy(name, left);
      await expectRolloutConsistent(name, left);
      await api("DELETE", `/services/${name}`);
      await expectNoOrphanPolicy(name, []);
    }
  });

  it("never leaves a policy behind when policy writes and assigns race a kill by name", {
    timeout: 60_000,
  }, async () => {
    const name = "race_policy";
    for (let round = 0; round < 15; round++) {
      await deploy(name, "1.0.0", origins.v1);
      await deploy(name, "2.0.0", origins.v1);
      const calls = [
        () => api("PUT", `/services/${name}/policy`, { body: { noisePercent: round } }),
        () => api("PUT", `/services/${name}/policy`, { body: { gate: { minRequests: round + 1 } } }),
        () => api("PUT", `/services/${name}/main`, { body: { version: "2.0.0" } }),
        () => api("DELETE", `/services/${name}`),
        () => api("PUT", `/services/${name}/policy`, { body: { ignore: ["body.time"] } }),
      ];
      const order = calls.map((_, i) => (i + round) % calls.length);
      const results = await Promise.all(order.map((i) => calls[i]?.()));
      for (const result of results) expect(result?.status, JSON.stringify(result?.body)).toBeLessThan(500);
      expect(await versionsOf(name)).toEqual([]);
      await expectNoOrphanPolicy(name, []);
    }
  });

  it("keeps a queue that runs operations one at a time, each on a fresh read", async () => {
    // Two deploys issued to the same instance without awaiting: the second must see the first's row.
    const stub = env.SERVICE_COORDINATOR.getByName("queue_check");
    const [a, b] = await Promise.all([
      stub.deploy({ name: "queue_check", version: "1.0.0", origin: origins.v1, status: "unknown" }, "admin-token"),
      stub.deploy({ name: "queue_check", version: "2.0.0", origin: origins.v1, status: "unknown" }, "admin-token"),
    ]);
    expect([a.ok && a.value.main, b.ok && b.value.main]).toEqual([true, false]);
  });
});

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it, vi } from "vitest";
import type { AssignResult } from "../../src/coordinator/results.ts";
import type { Env } from "../../src/env.ts";
import { api, deploy, type EvidenceMinute, recordEvidence, versionsOf } from "./admin-client.ts";

const origins = inject("origins");
const HOUR = 3_600_000;

let names = 0;
/** A fresh name with main 1.0.0 and shadow 2.0.0. */
async function freshName(): Promise<string> {
  const name = `gate_${++names}`;
  expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
  expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
  return name;
}

const assign = (name: string, version: string, force?: boolean) =>
  api<AssignResult>("PUT", `/services/${name}/main`, { body: force === undefined ? { version } : { version, force } });

const mainOf = async (name: string) => (await versionsOf(name)).find((v) => v.main)?.version;

/**
 * 2,000 compared requests (enough for a clean shadow's bands, p99 among them, to be clearly within the
 * limits), `different` of them differing at body.price, equal latency.
 */
const evidence = (different: number): EvidenceMinute => ({
  compared: 2000,
  different: different > 0 ? { "body.price": different } : {},
  latencyMs: { main: 20, shadow: 21 },
});

describe("the promotion gate on PUT /services/:name/main", () => {
  it("proceeds on pass, with the verdict it decided on and no warning", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", evidence(0));
    const res = await assign(name, "2.0.0");
    expect(res.status).toBe(200);
    expect(res.body.changed).toBe(true);
    expect(res.body.verdict).toMatchObject({ version: "2.0.0", verdict: "pass", requests: { compared: 2000 } });
    expect(res.body).not.toHaveProperty("warning");
    expect(res.body.services.map((s) => [s.version, s.main])).toEqual([
      ["1.0.0", false],
      ["2.0.0", true],
    ]);
  });

  it("proceeds without evidence (inconclusive), warning that there is no verdict yet", async () => {
    const name = await freshName();
    const res = await assign(name, "2.0.0");
    expect(res.status).toBe(200);
    expect(res.body.changed).toBe(true);
    expect(res.body.verdict).toMatchObject({ version: "2.0.0", verdict: "inconclusive" });
    expect(res.body.warning).toBe(
      `No verdict for ${name} 2.0.0 (last 1h) yet: 0 copies with an outcome, fewer than the 100 the gate needs; ` +
        "no copies have arrived yet; a shadow identical to main would need at least 820 to pass; main changed anyway",
    );
    expect(await mainOf(name)).toBe("2.0.0");
  });

  it("refuses a failing version with 409 gate_failed and its reasons, and changes nothing", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", evidence(400));
    const res = await assign(name, "2.0.0");
    expect(res.status).toBe(409);
    expect(res.body.error?.code).toBe("gate_failed");
    expect(res.body.error?.message).toContain(`${name} 2.0.0 (last 1h) fails the promotion gate`);
    expect(res.body.error?.message).toContain("force");
    expect(res.body.error?.reasons).toEqual([
      expect.stringMatching(
        /^400 of 2,000 compared requests differ \(20%, at least 1\d(\.\d+)?% at any look\), more than the 1% allowed; top fields: body.price \(value, 20%\)$/,
      ),
    ]);
    expect(await mainOf(name)).toBe("1.0.0");
  });

  it("proceeds on fail with force: true, with the failing verdict and a warning", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", evidence(400));
    const res = await assign(name, "2.0.0", true);
    expect(res.status).toBe(200);
    expect(res.body.changed).toBe(true);
    expect(res.body.verdict?.verdict).toBe("fail");
    expect(res.body.warning).toBe(
      `${name} 2.0.0 (last 1h) fails the promotion gate; main changed anyway (promotion forced)`,
    );
    expect(await mainOf(name)).toBe("2.0.0");
  });

  it("passes once the failing path is ignored by the name's policy", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", evidence(400));
    expect((await assign(name, "2.0.0")).status).toBe(409);
    expect((await api("PUT", `/services/${name}/policy`, { body: { ignore: ["body.price"] } })).status).toBe(200);
    const res = await assign(name, "2.0.0");
    expect(res.status).toBe(200);
    expect(res.body.verdict?.verdict).toBe("pass");
    expect(res.body.verdict?.fields).toEqual([
      { path: "body.price", kind: "value", count: 400, rate: 0.2, noiseRate: 0, ignored: true, counts: false },
    ]);
  });

  it("judges with the name's gate thresholds", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", evidence(400));
    await api("PUT", `/services/${name}/policy`, { body: { gate: { maxDiffRate: 0.3 } } });
    const res = await assign(name, "2.0.0");
    expect(res.status).toBe(200);
    expect(res.body.verdict?.verdict).toBe("pass");
  });

  it("judges the last hour only: older failures do not count", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", { ...evidence(400), at: Date.now() - 2 * HOUR });
    const res = await assign(name, "2.0.0");
    expect(res.status).toBe(200);
    expect(res.body.verdict?.verdict).toBe("inconclusive");
  });

  it("is not consulted for the current main: a 200 no-op with no verdict", async () => {
    const name = await freshName();
    await recordEvidence(name, "1.0.0", evidence(400));
    const res = await assign(name, "1.0.0");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ changed: false, services: await versionsOf(name), verdict: null });
  });

  it("answers 404 for an unknown version before any gate", async () => {
    const name = await freshName();
    const res = await assign(name, "3.0.0");
    expect(res.status).toBe(404);
    expect(res.body.error?.code).toBe("version_not_found");
  });

  it("answers 422 naming force when it is not a boolean", async () => {
    const name = await freshName();
    const res = await api("PUT", `/services/${name}/main`, { body: { version: "2.0.0", force: "yes" } });
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({ code: "invalid_field", message: "force must be true or false", field: "force" });
  });

  it("does not judge a version deployed again by the evidence of the one that was killed", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", evidence(400));
    expect((await api("DELETE", `/services/${name}/2.0.0`)).status).toBe(200);
    expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
    const res = await assign(name, "2.0.0");
    expect(res.status).toBe(200);
    expect(res.body.verdict).toMatchObject({ verdict: "inconclusive", requests: { compared: 0 } });
    expect(await mainOf(name)).toBe("2.0.0");
  });

  it("forgets, on deploying it again, what the killed version's copies still in flight left in the ledger", async () => {
    const name = await freshName();
    expect((await api("DELETE", `/services/${name}/2.0.0`)).status).toBe(200);
    // A batch that an isolate flushed after the kill, for copies it had sent before.
    await recordEvidence(name, "2.0.0", evidence(400));
    expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
    const res = await assign(name, "2.0.0");
    expect(res.status).toBe(200);
    expect(res.body.verdict).toMatchObject({ verdict: "inconclusive", requests: { compared: 0 } });
  });

  it("kills and deploys a shadow even when its evidence cannot be forgotten, and says so in the log", async () => {
    const name = await freshName();
    const down = {
      getByName: () => ({ forget: () => Promise.reject(new Error("connection lost")) }),
    } as unknown as Env["EVIDENCE_LEDGER"];
    const errors: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: unknown) => {
      errors.push(String(line));
    });
    try {
      await runInDurableObject(env.SERVICE_COORDINATOR.getByName(name), (instance) => {
        Reflect.set(instance, "env", { ...env, EVIDENCE_LEDGER: down });
      });
      const res = await api("DELETE", `/services/${name}/2.0.0`);
      expect(res.status).toBe(200);
      expect(res.body.killed?.map((s) => s.version)).toEqual(["2.0.0"]);
      expect((await versionsOf(name)).map((s) => s.version)).toEqual(["1.0.0"]);
      expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
    } finally {
      spy.mockRestore();
    }
    // Once for the kill, once for the deploy.
    const failure = { event: "ledger_forget_failed", name, version: "2.0.0", message: "connection lost" };
    expect(errors.map((line) => JSON.parse(line))).toEqual([failure, failure]);
  });

  it("fails closed when the ledger cannot be reached: 409 evidence_unavailable, which force overrides and says so", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", evidence(0));
    const down = {
      getByName: () => ({ report: () => Promise.reject(new Error("connection lost")) }),
    } as unknown as Env["EVIDENCE_LEDGER"];
    // The coordinator reads its bindings from its own env; this one instance gets a ledger that is down.
    await runInDurableObject(env.SERVICE_COORDINATOR.getByName(name), (instance) => {
      Reflect.set(instance, "env", { ...env, EVIDENCE_LEDGER: down });
    });
    const refused = await assign(name, "2.0.0");
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe("evidence_unavailable");
    expect(refused.body.error?.message).toBe(
      `The evidence for ${name} 2.0.0 (last 1h) could not be read (connection lost), so the promotion gate cannot ` +
        "judge it. Try again shortly, or force the promotion (force: true) to change main unchecked",
    );
    expect(await mainOf(name)).toBe("1.0.0");

    const forced = await assign(name, "2.0.0", true);
    expect(forced.status).toBe(200);
    expect(forced.body.changed).toBe(true);
    expect(forced.body.verdict).toBeNull();
    expect(forced.body.warning).toBe(
      `The evidence for ${name} 2.0.0 (last 1h) could not be read (connection lost); main changed unchecked (promotion forced)`,
    );
    expect(await mainOf(name)).toBe("2.0.0");
  });
});

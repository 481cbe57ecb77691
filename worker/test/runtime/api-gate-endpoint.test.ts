import { describe, expect, inject, it } from "vitest";
import type { GateResult } from "../../src/api/schemas.ts";
import { api, deploy, type EvidenceMinute, recordEvidence } from "./admin-client.ts";

// The gate a pipeline reads: GET or POST /services/:name/:version/gate, 200 only on pass.
const origins = inject("origins");
const HOUR = 3_600_000;

let names = 0;
async function freshName(): Promise<string> {
  const name = `gate_ep_${++names}`;
  expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
  expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
  return name;
}

/** 2,000 compared requests (enough for a clean shadow to pass at any look), `different` of them at body.price. */
const evidence = (different: number): EvidenceMinute => ({
  compared: 2000,
  different: different > 0 ? { "body.price": different } : {},
  latencyMs: { main: 20, shadow: 21 },
});

const gate = (method: "GET" | "POST", name: string, version: string, query = "", body?: unknown) =>
  api<GateResult>(method, `/services/${name}/${version}/gate${query}`, body === undefined ? {} : { body });

describe("GET and POST /services/:name/:version/gate", () => {
  it("answers 200 with the verdict, its reasons and the evidence on pass", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", evidence(0));
    for (const method of ["GET", "POST"] as const) {
      const res = await gate(method, name, "2.0.0");
      expect(res.status, method).toBe(200);
      expect(res.body).toMatchObject({
        name,
        main: "1.0.0",
        version: "2.0.0",
        verdict: "pass",
        requests: { compared: 2000, different: 0 },
      });
      expect(res.body.reasons[0]).toMatch(
        /^0 of 2,000 compared requests differ \(0%, at most 0.\d+% at any look\), within 1%$/,
      );
      expect(res.body).not.toHaveProperty("error");
    }
  });

  it("answers 412 with the same body on fail, plus an error saying why", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", evidence(400));
    for (const method of ["GET", "POST"] as const) {
      const res = await gate(method, name, "2.0.0");
      expect(res.status, method).toBe(412);
      expect(res.body).toMatchObject({ version: "2.0.0", verdict: "fail", requests: { different: 400 } });
      expect(res.body.reasons).toEqual([
        expect.stringMatching(
          /^400 of 2,000 compared requests differ \(20%, at least 1\d(\.\d+)?% at any look\), more than the 1% allowed; top fields: body.price \(value, 20%\)$/,
        ),
      ]);
      expect(res.body.error).toEqual({
        code: "gate_not_passed",
        message: `${name} 2.0.0 is fail over the last 1h: ${res.body.reasons[0]}`,
      });
    }
  });

  it("answers 412 while inconclusive, saying what is missing", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", { ...evidence(0), compared: 20 });
    for (const method of ["GET", "POST"] as const) {
      const res = await gate(method, name, "2.0.0");
      expect(res.status, method).toBe(412);
      expect(res.body.verdict).toBe("inconclusive");
      expect(res.body.reasons).toEqual([
        "20 copies with an outcome, fewer than the 100 the gate needs",
        expect.stringMatching(/^about \d+ more requests at these rates would pass it$/),
      ]);
    }
  });

  it("never passes a main: it has nothing to be compared with", async () => {
    const name = await freshName();
    const res = await gate("GET", name, "1.0.0");
    expect(res.status).toBe(412);
    expect(res.body.verdict).toBe("inconclusive");
    expect(res.body.reasons).toEqual([`1.0.0 is the main of ${name}; the gate judges a shadow against its main`]);
  });

  it("judges the window it is given", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", { ...evidence(0), at: Date.now() - 2 * HOUR });
    expect((await gate("GET", name, "2.0.0")).body.verdict).toBe("inconclusive");
    const wide = await gate("GET", name, "2.0.0", "?window=3h");
    expect(wide.status).toBe(200);
    expect(Date.parse(wide.body.window.to) - Date.parse(wide.body.window.from)).toBe(3 * HOUR);
  });

  it("takes any JSON body on POST, as Flagger's webhooks send one", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", evidence(0));
    const flagger = { name: "podinfo", namespace: "test", phase: "Progressing", metadata: { type: "pre-rollout" } };
    expect((await gate("POST", name, "2.0.0", "", flagger)).status).toBe(200);
    expect((await gate("POST", name, "2.0.0", "", [1, 2])).status).toBe(200);
  });

  it("with answer=body, always 200: the verdict only in the body, for tools that take any other status as an error", async () => {
    const name = await freshName();
    await recordEvidence(name, "2.0.0", evidence(400));
    const failing = await gate("GET", name, "2.0.0", "?answer=body");
    expect(failing.status).toBe(200);
    expect(failing.body.verdict).toBe("fail");
    expect(failing.body).not.toHaveProperty("error");
    const main = await gate("POST", name, "1.0.0", "?answer=body&window=2h");
    expect([main.status, main.body.verdict]).toEqual([200, "inconclusive"]);
    const bad = await gate("GET", name, "2.0.0", "?answer=always");
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ field: "answer", message: "answer must be status or body" });
  });

  it("answers 404 for an unknown version or name, and 422 naming a bad window", async () => {
    const name = await freshName();
    const unknownVersion = await gate("GET", name, "3.0.0");
    expect(unknownVersion.status).toBe(404);
    expect(unknownVersion.body.error?.code).toBe("version_not_found");
    expect((await gate("POST", "nobody_here", "1.0.0")).status).toBe(404);
    for (const window of ["8d", "soon"]) {
      const res = await gate("GET", name, "2.0.0", `?window=${window}`);
      expect(res.status, window).toBe(422);
      expect(res.body.error?.field).toBe("window");
    }
  });
});

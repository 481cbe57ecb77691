import { describe, expect, inject, it } from "vitest";
import type { PolicyResult } from "../../src/coordinator/results.ts";
import { api, deploy } from "./admin-client.ts";

const origins = inject("origins");

let names = 0;
async function freshName(): Promise<string> {
  const name = `strict_${++names}`;
  expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
  expect((await deploy(name, "2.0.0", origins.v2)).status).toBe(201);
  return name;
}

describe("every body is checked strictly: an unknown field is refused by name, with the nearest known one", () => {
  it("a misspelt noisePercent is 422, and the stored policy keeps its value", async () => {
    const name = await freshName();
    const res = await api("PUT", `/services/${name}/policy`, { body: { noisePercnt: 10 } });
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({
      code: "unknown_field",
      field: "noisePercnt",
      message: "noisePercnt is not a field of this request: did you mean noisePercent?",
    });
    expect((await api<PolicyResult>("GET", `/services/${name}/policy`)).body.noisePercent).toBe(5);
  });

  const refused: [string, string, string, unknown, string, string][] = [
    [
      "a gate threshold",
      "PUT",
      "/services/{name}/policy",
      { gate: { maxDifRate: 0.5 } },
      "gate.maxDifRate",
      "gate.maxDifRate is not a field of gate: did you mean maxDiffRate?",
    ],
    [
      "a field of a rule",
      "PUT",
      "/services/{name}/policy",
      { rules: [{ path: "body.price", match: "number", rell: 1e-6 }] },
      "rules.0.rell",
      "rules.0.rell is not a field of rules.0: did you mean rel?",
    ],
    [
      "a field with nothing near it",
      "PUT",
      "/services/{name}/policy",
      { archive: { percent: 5 } },
      "archive",
      "archive is not a field of this request: known fields: ",
    ],
    [
      "a traffic control",
      "PATCH",
      "/services/{name}/2.0.0",
      { mirrorPercnt: 10 },
      "mirrorPercnt",
      "mirrorPercnt is not a field of this request: did you mean mirrorPercent?",
    ],
    [
      "an assignment",
      "PUT",
      "/services/{name}/main",
      { version: "2.0.0", forse: true },
      "forse",
      "forse is not a field of this request: did you mean force?",
    ],
    [
      "a rollout",
      "POST",
      "/services/{name}/2.0.0/rollout",
      { steps: [5], stepMinute: 10 },
      "stepMinute",
      "stepMinute is not a field of this request: did you mean stepMinutes?",
    ],
  ];
  it.each(refused)("refuses a misspelt %s", async (_, method, path, body, field, message) => {
    const name = await freshName();
    const res = await api(method, path.replace("{name}", name), { body });
    expect(res.status).toBe(422);
    expect(res.body.error?.code).toBe("unknown_field");
    expect(res.body.error?.field).toBe(field);
    expect(res.body.error?.message.startsWith(message)).toBe(true);
  });

  it("refuses a deploy with a misspelt canaryPercent, and deploys nothing", async () => {
    const name = `strict_deploy_${++names}`;
    expect((await deploy(name, "1.0.0", origins.v1)).status).toBe(201);
    const res = await api("POST", "/services", {
      body: { name, version: "2.0.0", origin: origins.v2, check: false, canaryPercnt: 5 },
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ field: "canaryPercnt", code: "unknown_field" });
    expect(res.body.error?.message).toContain("did you mean canaryPercent?");
    expect((await api("GET", `/services?name=${name}`)).body.services).toHaveLength(1);
  });
});

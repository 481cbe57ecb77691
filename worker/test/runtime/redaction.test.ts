import { describe, expect, inject, it } from "vitest";
import type { ExchangeSample } from "../../src/evidence/batch.ts";
import { LEAKED } from "../support/leaks.ts";
import { api } from "./admin-client.ts";
import { deploy, gateway, uniqueName } from "./proxy-helpers.ts";

const origins = inject("origins");
const REDACTED = /^REDACTED:[0-9a-f]{8}$/;
const SECRETS = ["s3ss10n-of-ann", "ann@example.com", "acc-t0k3n", "q-t0k3n", "ann-the-user", "Bearer end-user"];

/** Samples reach the ledger in batches: waits for the first one of a shadow. */
async function firstSample(name: string, version: string): Promise<ExchangeSample> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { body } = await api<{ samples: ExchangeSample[] }>("GET", `/services/${name}/${version}/diffs`);
    const [sample] = body.samples;
    if (sample) return sample;
    if (Date.now() > deadline) throw new Error(`no sample of ${name} ${version} after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("stored samples", () => {
  it("hold no cookie, credential in the query, credential field or field the policy redacts", async () => {
    const name = uniqueName("redact");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const policy = await api("PUT", `/services/${name}/policy`, { body: { redact: ["body.email", "query.user"] } });
    expect(policy.status).toBe(200);
    expect(policy.body).toMatchObject({ redact: ["body.email", "query.user"] });

    const response = await gateway(`/services/${name}/account?token=q-t0k3n&user=ann-the-user&item=7`, {
      headers: { authorization: "Bearer end-user", cookie: "session=s3ss10n-of-ann", "x-request-id": `${name}-1` },
    });
    // The client itself gets main's answer untouched.
    expect(response.headers.get("set-cookie")).toContain("s3ss10n-of-ann");
    expect(await response.json()).toMatchObject({ email: "ann@example.com" });

    const sample = await firstSample(name, "2.0.0");
    const stored = JSON.stringify(sample);
    for (const secret of SECRETS) expect(stored, secret).not.toContain(secret);
    expect(sample.paths).toContain("body.version");
    expect(sample.url).toMatch(/token=REDACTED%3A[0-9a-f]{8}&user=REDACTED%3A[0-9a-f]{8}&item=7$/);
    const [main, shadow] = [JSON.parse(sample.main.body), JSON.parse(sample.shadow.body)];
    expect(main).toMatchObject({ version: "1.0.0" });
    expect(shadow).toMatchObject({ version: "2.0.0" });
    expect(main.email).toMatch(REDACTED);
    expect(main.accessToken).toMatch(REDACTED);
    expect(sample.main.headers["set-cookie"]).toMatch(REDACTED);
    // Equal values redact equally: both sides set the same cookie and the same email.
    expect(sample.shadow.headers["set-cookie"]).toBe(sample.main.headers["set-cookie"]);
    expect(shadow.email).toBe(main.email);
  });
});

describe("stored samples of an app that leaks like real ones", () => {
  it("hold no OAuth code or state, fragment token, JWT, short-named credential, starred path or cut credential object", async () => {
    const name = uniqueName("leaky");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    const policy = await api("PUT", `/services/${name}/policy`, { body: { redact: ["body.profile.cards.*.number"] } });
    expect(policy.status).toBe(200);

    const query = `code=${LEAKED.code}&state=${LEAKED.state}&lang=en&hint=${LEAKED.queryJwt}`;
    const response = await gateway(`/services/${name}/oauth/callback?${query}`, {
      headers: { "x-request-id": `${name}-1` },
    });
    expect(response.status).toBe(200);
    // The client itself gets main's answer untouched.
    expect(response.headers.get("location")).toContain(LEAKED.fragmentToken);
    expect(await response.json()).toMatchObject({ version: "1.0.0", pass: LEAKED.pass });

    const sample = await firstSample(name, "2.0.0");
    const stored = JSON.stringify(sample);
    for (const [what, secret] of Object.entries(LEAKED)) expect(stored.includes(secret), what).toBe(false);
    expect(sample.paths).toContain("body.version");
    // What is not secret stays readable.
    expect(sample.url).toContain("&lang=en&");
    expect(sample.main.truncated).toBe(true);
    expect(sample.main.headers.location).toMatch(
      /^https:\/\/app\.example\.com\/home#access_token=REDACTED%3A[0-9a-f]{8}&expires_in=3600$/,
    );
    expect(sample.main.body).toContain('"brand":"visa"');
    expect(sample.main.body).toMatch(/"credentials":"REDACTED:[0-9a-f]{8}"$/);
  });
});

import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { TestProject } from "vitest/node";
import { startJwksOrigin } from "../../worker/test/support/jwks-origin.ts";
import { startTestWorld } from "../../worker/test/support/world.ts";

declare module "vitest" {
  export interface ProvidedContext {
    dashboardWorld: {
      gateway: { url: string; token: string; readToken: string };
      /** v1 and v2 answer with their own version in the body, so v2 always differs from v1 at `body.version`. */
      origins: { v1: string; v2: string; dead: string };
      /** Screenshots of this run (git-ignored). */
      screenshotDir: string;
      /** What Cloudflare Access would add to each request of a signed-in user (valid for an hour). */
      access: { assertion: string; email: string };
    };
  }
}

const root = join(import.meta.dirname, "..", "..");

const ACCESS = { team: "team.cloudflareaccess.test", aud: "dashboard-test-aud", email: "ops@example.com" };

/** Plays Cloudflare Access: a key set the gateway fetches, and an assertion signed by its key. */
async function accessStandIn() {
  const jwks = await startJwksOrigin();
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "dashboard-test", alg: "RS256", use: "sig" };
  await fetch(jwks.url, { method: "PUT", body: JSON.stringify({ keys: [jwk] }) });
  const assertion = await new SignJWT({ email: ACCESS.email })
    .setProtectedHeader({ alg: "RS256", kid: "dashboard-test" })
    .setIssuer(`https://${ACCESS.team}`)
    .setAudience(ACCESS.aud)
    .setSubject("dashboard-test-user")
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(privateKey);
  const vars = { ACCESS_TEAM_DOMAIN: ACCESS.team, ACCESS_AUD: ACCESS.aud, ACCESS_CERTS_URL: jwks.url };
  return { jwks, assertion, vars };
}

/** A gateway of its own (`npm run dev`, which builds the dashboard) behind a stand-in for Access, and real origins. */
export default async function setup(project: TestProject) {
  const access = await accessStandIn();
  const world = await startTestWorld("browser", [], access.vars).catch(async (error: unknown) => {
    await access.jwks.close();
    throw error;
  });
  project.provide("dashboardWorld", {
    gateway: world.gateway,
    origins: world.origins,
    screenshotDir: join(root, "test-results", "dashboard"),
    access: { assertion: access.assertion, email: ACCESS.email },
  });
  return async () => {
    await world.teardown();
    await access.jwks.close();
  };
}

import { Hono } from "hono";
import { readConfig } from "../config.ts";
import { toPolicyResult } from "../coordinator/policy-view.ts";
import { listServices, openDatabase, readPolicy, toRecord } from "../db/queries.ts";
import type { AppEnv, Env } from "../env.ts";
import { AppError } from "../errors.ts";
import { probeOrigin } from "../health/probe.ts";
import { assignEvent, killEvents } from "../notify/events.ts";
import { notifyName } from "../notify/send.ts";
import { gatewayKey } from "../proxy/gateway-key.ts";
import { decideDeploy, requireName } from "../registry/rules.ts";
import { forgetCapturesIfGone } from "../replay/control.ts";
import { coordinate } from "./coordinate.ts";
import { describe } from "./openapi.ts";
import {
  AssignBodySchema,
  AssignResultSchema,
  DeployBodySchema,
  KilledListSchema,
  ListQuerySchema,
  NameParamSchema,
  PolicyBodySchema,
  PolicySchema,
  ServiceListSchema,
  ServiceRecordSchema,
  TrafficControlsBodySchema,
  VersionParamSchema,
} from "./schemas.ts";
import { validate } from "./validate.ts";

// A name's versions: deploy, list, assign main, traffic controls, the policy, and kill.

/** A deploy's check: the origin answers, and does not lead back to this gateway. */
async function checkOrigin(env: Env, name: string, version: string, origin: string): Promise<"running"> {
  // A version that exists is refused before its origin is waited on; the coordinator still decides.
  decideDeploy(await listServices(openDatabase(env.DB), name), name, version);
  const probe = await probeOrigin(origin, readConfig(env).healthTimeoutMs, await gatewayKey(env));
  if (probe.status === "unreachable") {
    throw new AppError(
      422,
      "origin_unreachable",
      `origin ${origin} did not answer (${probe.reason}); start it first, or skip the check (\`--no-check\` in the CLI, \`"check": false\` in the API)`,
      "origin",
    );
  }
  if (probe.reachesGateway) {
    throw new AppError(
      422,
      "origin_loop",
      `origin ${origin} leads back to this gateway; requests would loop`,
      "origin",
    );
  }
  return "running";
}

export const serviceRoutes = new Hono<AppEnv>()
  .get(
    "/services",
    describe({
      summary: "List every version, optionally of one name",
      success: { status: 200, description: "The versions", schema: ServiceListSchema },
    }),
    validate("query", ListQuerySchema),
    async (c) => {
      const { name } = c.req.valid("query");
      const rows = await listServices(openDatabase(c.env.DB), name);
      return c.json({ services: rows.map(toRecord) }, 200);
    },
  )
  .post(
    "/services",
    describe({
      summary: "Deploy a version of a service at an already-running origin",
      success: { status: 201, description: "The new version", schema: ServiceRecordSchema },
      errors: {
        409: "This version of the name is already deployed",
        422:
          "A field is invalid, the origin did not answer the check, or a canary share would exceed the name's 50 " +
          "(or be set on its first version, which is main); `error.field` names the field",
      },
    }),
    validate("json", DeployBodySchema),
    async (c) => {
      const { name, version, origin, check, ...controls } = c.req.valid("json");
      const status = check ? await checkOrigin(c.env, name, version, origin) : "unknown";
      const record = await coordinate(c.env, name, (co) =>
        co.deploy({ name, version, origin, status, ...controls }, c.get("actor")),
      );
      return c.json(record, 201);
    },
  )
  .get(
    "/services/:name",
    describe({
      summary: "List the versions of one name",
      success: { status: 200, description: "The versions", schema: ServiceListSchema },
      errors: { 404: "No version of this name is deployed" },
    }),
    validate("param", NameParamSchema),
    async (c) => {
      const { name } = c.req.valid("param");
      const rows = await listServices(openDatabase(c.env.DB), name);
      requireName(rows, name);
      return c.json({ services: rows.map(toRecord) }, 200);
    },
  )
  .put(
    "/services/:name/main",
    describe({
      summary: "Make a version the main of its name, if its evidence over the last hour does not fail the gate",
      success: {
        status: 200,
        description:
          "Whether main changed, the versions after the call, the verdict the gate decided on, " +
          "and a warning when main changed without a pass",
        schema: AssignResultSchema,
      },
      errors: {
        404: "The name, or this version of it, is not deployed",
        409:
          "The version's verdict over the last hour is fail (`gate_failed`; `error.reasons` says why), or its evidence " +
          "could not be read (`evidence_unavailable`). Send `force: true` to force the promotion",
      },
    }),
    validate("param", NameParamSchema),
    validate("json", AssignBodySchema),
    async (c) => {
      const { name } = c.req.valid("param");
      const { version, force } = c.req.valid("json");
      const result = await coordinate(c.env, name, (co) => co.assign(name, version, force, c.get("actor")));
      if (result.changed) c.executionCtx.waitUntil(notifyName(c.env, name, [assignEvent(name, result, new Date())]));
      return c.json(result, 200);
    },
  )
  .patch(
    "/services/:name/:version",
    describe({
      summary:
        "Change the traffic controls of a version: what it receives as a shadow, and what it answers as a canary",
      success: { status: 200, description: "The version after the change", schema: ServiceRecordSchema },
      errors: {
        404: "The name, or this version of it, is not deployed",
        422:
          "A field is invalid, the body sets no field, a canary share is set on main, or the name's canary shares " +
          "would add up to more than 50; `error.field` names the field",
      },
    }),
    validate("param", VersionParamSchema),
    validate("json", TrafficControlsBodySchema),
    async (c) => {
      const { name, version } = c.req.valid("param");
      const body = c.req.valid("json");
      const changes = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
      if (Object.keys(changes).length === 0) {
        throw new AppError(
          422,
          "invalid_field",
          "body must set at least one of mirrorPercent, mirrorMethods, stripHeaders, canaryPercent, canaryKey, canaryWrites and forwardAccess",
          "body",
        );
      }
      const record = await coordinate(c.env, name, (co) =>
        co.setTrafficControls(name, version, changes, c.get("actor")),
      );
      return c.json(record, 200);
    },
  )
  .get(
    "/services/:name/policy",
    describe({
      summary: "The name's evidence policy: ignored paths, compared headers, noise sampling and gate thresholds",
      success: { status: 200, description: "The policy, defaults included", schema: PolicySchema },
      errors: { 404: "No version of this name is deployed" },
    }),
    validate("param", NameParamSchema),
    async (c) => {
      const { name } = c.req.valid("param");
      const db = openDatabase(c.env.DB);
      requireName(await listServices(db, name), name);
      return c.json(toPolicyResult(await readPolicy(db, name)), 200);
    },
  )
  .put(
    "/services/:name/policy",
    describe({
      summary: "Change the name's policy: given fields replace the stored ones, gate thresholds one by one",
      success: {
        status: 200,
        description: "The whole policy after the change, defaults included",
        schema: PolicySchema,
      },
      errors: { 404: "No version of this name is deployed" },
    }),
    validate("param", NameParamSchema),
    validate("json", PolicyBodySchema),
    async (c) => {
      const { name } = c.req.valid("param");
      const changes = c.req.valid("json");
      const policy = await coordinate(c.env, name, (co) => co.setPolicy(name, changes, c.get("actor")));
      return c.json(policy, 200);
    },
  );

/** Kill a version or a whole name; after the rollout routes, so `DELETE …/rollout` aborts a rollout. */
export const killRoutes = new Hono<AppEnv>()
  .delete(
    "/services/:name/:version",
    describe({
      summary: "Kill one version (a main only once it has no shadows)",
      success: { status: 200, description: "The killed version", schema: KilledListSchema },
      errors: {
        403: "The version is main and still has shadows",
        404: "The name, or this version of it, is not deployed",
      },
    }),
    validate("param", VersionParamSchema),
    async (c) => {
      const { name, version } = c.req.valid("param");
      // Read first: killing a name's last version takes its policy with it.
      const { notify } = await readPolicy(openDatabase(c.env.DB), name);
      const killed = await coordinate(c.env, name, (co) => co.kill(name, version, c.get("actor")));
      await forgetCapturesIfGone(c.env, name);
      c.executionCtx.waitUntil(notifyName(c.env, name, killEvents(killed, new Date()), notify));
      return c.json({ killed }, 200);
    },
  )
  .delete(
    "/services/:name",
    describe({
      summary: "Kill every version of a name at once",
      success: { status: 200, description: "The killed versions", schema: KilledListSchema },
      errors: { 404: "No version of this name is deployed" },
    }),
    validate("param", NameParamSchema),
    async (c) => {
      const { name } = c.req.valid("param");
      // Read first: killing a name takes its policy with it.
      const { notify } = await readPolicy(openDatabase(c.env.DB), name);
      const killed = await coordinate(c.env, name, (co) => co.kill(name, undefined, c.get("actor")));
      await forgetCapturesIfGone(c.env, name);
      c.executionCtx.waitUntil(notifyName(c.env, name, killEvents(killed, new Date()), notify));
      return c.json({ killed }, 200);
    },
  );

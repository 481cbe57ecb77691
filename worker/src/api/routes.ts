import { Hono } from "hono";
import { readConfig } from "../config.ts";
import type { Outcome, ServiceCoordinator } from "../coordinator/ServiceCoordinator.ts";
import { listServices, openDatabase, toRecord } from "../db/queries.ts";
import type { AppEnv, Env } from "../env.ts";
import { AppError } from "../errors.ts";
import { probeOrigin } from "../health/probe.ts";
import { gatewayKey } from "../proxy/gateway-key.ts";
import { forgetRoutes } from "../proxy/route-table.ts";
import { decideDeploy } from "../registry/rules.ts";
import { adminAuth } from "./auth.ts";
import { describe, openApiDocument } from "./openapi.ts";
import {
  AssignBodySchema,
  AssignResultSchema,
  DeployBodySchema,
  KilledListSchema,
  ListQuerySchema,
  NameParamSchema,
  ServiceListSchema,
  ServiceRecordSchema,
  VersionParamSchema,
} from "./schemas.ts";
import { validate } from "./validate.ts";

/** Where the admin API is mounted; the OpenAPI document's server URL. */
export const ADMIN_API_BASE = "/api/v1";

/** Every write of a name goes through that name's coordinator, which answers with data, not errors. */
async function coordinate<T>(
  env: Env,
  name: string,
  operation: (coordinator: DurableObjectStub<ServiceCoordinator>) => Promise<Outcome<T>>,
): Promise<T> {
  const outcome = await operation(env.SERVICE_COORDINATOR.getByName(name));
  forgetRoutes(name);
  if (!outcome.ok) throw AppError.fromBody(outcome.status, outcome.body);
  return outcome.value;
}

export const adminApi = new Hono<AppEnv>();

adminApi.use("*", adminAuth());

const routes = adminApi
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
        422: "A field is invalid, or the origin did not answer the check; `error.field` names it",
      },
    }),
    validate("json", DeployBodySchema),
    async (c) => {
      const { name, version, origin, check } = c.req.valid("json");
      let status: "running" | "unknown" = "unknown";
      if (check) {
        // A version that exists is refused before its origin is waited on; the coordinator still decides.
        decideDeploy(await listServices(openDatabase(c.env.DB), name), name, version);
        const probe = await probeOrigin(origin, readConfig(c.env).healthTimeoutMs, await gatewayKey(c.env));
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
        status = "running";
      }
      const record = await coordinate(c.env, name, (co) => co.deploy({ name, version, origin, status }));
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
      if (rows.length === 0) throw new AppError(404, "service_not_found", `No service named ${name}`);
      return c.json({ services: rows.map(toRecord) }, 200);
    },
  )
  .put(
    "/services/:name/main",
    describe({
      summary: "Make a version the main of its name",
      success: {
        status: 200,
        description: "Whether main changed, and the versions after the call",
        schema: AssignResultSchema,
      },
      errors: { 404: "The name, or this version of it, is not deployed" },
    }),
    validate("param", NameParamSchema),
    validate("json", AssignBodySchema),
    async (c) => {
      const { name } = c.req.valid("param");
      const { version } = c.req.valid("json");
      const result = await coordinate(c.env, name, (co) => co.assign(name, version));
      return c.json(result, 200);
    },
  )
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
      const killed = await coordinate(c.env, name, (co) => co.kill(name, version));
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
      const killed = await coordinate(c.env, name, (co) => co.kill(name));
      return c.json({ killed }, 200);
    },
  );

let document: ReturnType<typeof openApiDocument> | undefined;

adminApi.get(
  "/openapi.json",
  describe({ summary: "This document", success: { status: 200, description: "The OpenAPI 3.1 document" } }),
  (c) => {
    // Built on first use, so that an isolate that only proxies never pays for it.
    document ??= openApiDocument(adminApi, ADMIN_API_BASE);
    return c.json(document);
  },
);

/** The route types the CLI's `hono/client` is built from. */
export type AdminApi = typeof routes;

import { createRoute, OpenAPIHono, type z } from "@hono/zod-openapi";
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
import {
  AssignBodySchema,
  DeployBodySchema,
  ErrorSchema,
  KilledListSchema,
  ListQuerySchema,
  NameParamSchema,
  ServiceListSchema,
  ServiceRecordSchema,
  VersionParamSchema,
} from "./schemas.ts";

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, json(ErrorSchema, `Error ${status}`)]));
const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

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

/** Zod's first complaint, turned into one error that names the field. */
function validationError(error: z.ZodError): AppError {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join(".") || "body";
  const message =
    issue?.code === "invalid_type" && issue.input === undefined ? "is required" : (issue?.message ?? "is invalid");
  return new AppError(422, "invalid_field", `${field} ${message}`, field);
}

export const adminApi = new OpenAPIHono<AppEnv>({
  defaultHook: (result) => {
    if (!result.success) throw validationError(result.error);
  },
});

adminApi.use("*", adminAuth());

adminApi.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });

const routes = adminApi
  .openapi(
    createRoute({
      method: "get",
      path: "/services",
      summary: "List every version, optionally of one name",
      request: { query: ListQuerySchema },
      responses: { 200: json(ServiceListSchema, "The versions"), ...errors(401, 422) },
    }),
    async (c) => {
      const { name } = c.req.valid("query");
      const rows = await listServices(openDatabase(c.env.DB), name);
      return c.json({ services: rows.map(toRecord) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/services",
      summary: "Deploy a version of a service at an already-running origin",
      request: jsonBody(DeployBodySchema),
      responses: { 201: json(ServiceRecordSchema, "The new version"), ...errors(400, 401, 409, 422) },
    }),
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
  .openapi(
    createRoute({
      method: "get",
      path: "/services/{name}",
      summary: "List the versions of one name",
      request: { params: NameParamSchema },
      responses: { 200: json(ServiceListSchema, "The versions"), ...errors(401, 404, 422) },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const rows = await listServices(openDatabase(c.env.DB), name);
      if (rows.length === 0) throw new AppError(404, "service_not_found", `No service named ${name}`);
      return c.json({ services: rows.map(toRecord) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/services/{name}/main",
      summary: "Make a version the main of its name",
      request: { params: NameParamSchema, ...jsonBody(AssignBodySchema) },
      responses: { 200: json(ServiceListSchema, "The versions after the change"), ...errors(400, 401, 404, 422) },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const { version } = c.req.valid("json");
      const services = await coordinate(c.env, name, (co) => co.assign(name, version));
      return c.json({ services }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/services/{name}/{version}",
      summary: "Kill one version (a main only once it has no shadows)",
      request: { params: VersionParamSchema },
      responses: { 200: json(KilledListSchema, "The killed version"), ...errors(401, 403, 404, 422) },
    }),
    async (c) => {
      const { name, version } = c.req.valid("param");
      const killed = await coordinate(c.env, name, (co) => co.kill(name, version));
      return c.json({ killed }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/services/{name}",
      summary: "Kill every version of a name at once",
      request: { params: NameParamSchema },
      responses: { 200: json(KilledListSchema, "The killed versions"), ...errors(401, 404, 422) },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const killed = await coordinate(c.env, name, (co) => co.kill(name));
      return c.json({ killed }, 200);
    },
  );

adminApi.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: {
    title: "daeploy-edge admin API",
    version: "1",
    description: "Deploy, assign and kill versions of services behind the shadow gateway.",
  },
  security: [{ bearer: [] }],
});

/** The route types the CLI's `hono/client` is built from. */
export type AdminApi = typeof routes;

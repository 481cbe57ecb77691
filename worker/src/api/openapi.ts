import { type ConversionConfig, type JsonSchema, toJsonSchema, toJsonSchemaDefs } from "@valibot/to-json-schema";
import type { Hono, MiddlewareHandler } from "hono";
import type * as v from "valibot";
import type { AppEnv } from "../env.ts";
import { isReadCall } from "./auth.ts";
import { NAMED_SCHEMAS } from "./schemas.ts";
import { MAX_JSON_BODY_BYTES, type ObjectSchema, type Target, validatedInputs } from "./validate.ts";

interface Operation {
  summary: string;
  /** The success status and its body, then the errors only this route gives (an error body by default). */
  success: { status: number; description: string; schema?: v.GenericSchema };
  errors?: Record<number, string | { description: string; schema: v.GenericSchema }>;
}

const operations = new WeakMap<object, Operation>();

/** Describes the route it is placed on; the document is built from these and from the validators after them. */
export function describe(operation: Operation): MiddlewareHandler<AppEnv> {
  const middleware: MiddlewareHandler<AppEnv> = (_c, next) => next();
  operations.set(middleware, operation);
  return middleware;
}

// Statuses that every route, or every route taking an input, can answer with.
const EVERY_ROUTE: Record<number, string> = {
  401: "The token is missing or wrong, or the Cloudflare Access assertion was refused",
  500: "The gateway failed to handle the request",
  503: "The admin API is disabled (the ADMIN_TOKEN secret is not set), or D1 failed (`storage_unavailable`; a change is made whole or not at all)",
};
const READ_ONLY = "The read token may only read (`read_only`)";
const WITH_INPUT: Record<number, string> = { 422: "A field is invalid; `error.field` names it" };
const WITH_BODY: Record<number, string> = {
  400: "The body is not valid JSON",
  413: `The body is larger than ${MAX_JSON_BODY_BYTES} bytes`,
  415: "The body is not sent as `application/json`",
};

const names = new Map<unknown, string>(Object.entries(NAMED_SCHEMAS).map(([name, schema]) => [schema, name]));
const refTo = (name: string) => `#/components/schemas/${name}`;
// Requests are described as the client sends them, before any normalising transformation.
const conversion = {
  target: "draft-2020-12",
  typeMode: "input",
  overrideRef: ({ referenceId }) => refTo(referenceId),
  // Custom checks (two decimals, no repeats, the shape of a difference path) have no JSON Schema form;
  // the descriptions and the 422 messages say them.
  ignoreActions: ["check", "raw_check", "finite"],
} satisfies ConversionConfig;

function jsonSchemaOf(schema: v.GenericSchema): JsonSchema {
  const name = names.get(schema);
  if (name) return { $ref: refTo(name) };
  const { $defs: _, $schema: __, ...converted } = toJsonSchema(schema, { ...conversion, definitions: NAMED_SCHEMAS });
  return converted;
}

const jsonContent = (schema: v.GenericSchema) => ({ "application/json": { schema: jsonSchemaOf(schema) } });

/** The OpenAPI 3.1 document of every described route of `api`, mounted at `base`. */
export function openApiDocument(api: Hono<AppEnv>, base: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  const routes = new Map<string, { operation?: Operation; inputs: { target: Target; schema: ObjectSchema }[] }>();
  for (const route of api.routes) {
    const key = `${route.method} ${route.path}`;
    const entry = routes.get(key) ?? { inputs: [] };
    entry.operation ??= operations.get(route.handler);
    const input = validatedInputs.get(route.handler);
    if (input) entry.inputs.push(input);
    routes.set(key, entry);
  }
  for (const [key, { operation, inputs }] of routes) {
    if (!operation) continue;
    const [method = "", path = ""] = key.split(" ");
    const parameters = inputs
      .filter((input) => input.target !== "json")
      .flatMap(({ target, schema }) =>
        Object.entries(schema.entries).map(([name, entry]) => ({
          name,
          in: target === "param" ? "path" : "query",
          required: target === "param" || entry.type !== "optional",
          schema: jsonSchemaOf(entry),
        })),
      );
    const body = inputs.find((input) => input.target === "json");
    const errors: NonNullable<Operation["errors"]> = {
      ...EVERY_ROUTE,
      ...(inputs.length > 0 ? WITH_INPUT : {}),
      ...(body ? WITH_BODY : {}),
      ...operation.errors,
    };
    // Every write refuses the read token; a route with a 403 of its own documents both.
    const own403 = operation.errors?.[403];
    if (!isReadCall(method, path)) errors[403] = typeof own403 === "string" ? `${own403}; or ${READ_ONLY}` : READ_ONLY;
    const { success } = operation;
    const responses: Record<string, unknown> = {
      [success.status]: { description: success.description, content: success.schema && jsonContent(success.schema) },
    };
    for (const [status, error] of Object.entries(errors)) {
      const { description, schema } = typeof error === "string" ? { description: error, schema: undefined } : error;
      responses[status] = { description, content: jsonContent(schema ?? NAMED_SCHEMAS.Error) };
    }
    const openApiPath = path.replace(/:(\w+)/g, "{$1}");
    const item = paths[openApiPath] ?? {};
    paths[openApiPath] = item;
    item[method.toLowerCase()] = {
      summary: operation.summary,
      ...(parameters.length > 0 && { parameters }),
      ...(body && { requestBody: { required: true, content: jsonContent(body.schema) } }),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "daeploy-edge admin API",
      version: "1",
      description: "Deploy, assign and kill versions of services behind the shadow gateway.",
    },
    servers: [{ url: base }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: toJsonSchemaDefs(NAMED_SCHEMAS, conversion),
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
  };
}

import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import * as v from "valibot";
import type { AppEnv } from "../env.ts";
import { AppError } from "../errors.ts";
import { refuseUnknownFields } from "./strict.ts";

export type Target = "json" | "query" | "param";
export type ObjectSchema = v.ObjectSchema<v.ObjectEntries, v.ErrorMessage<v.ObjectIssue> | undefined>;

/** The largest admin request body; a deploy is a few hundred bytes. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** What each validating middleware checks, for the OpenAPI document. */
export const validatedInputs = new WeakMap<object, { target: Target; schema: ObjectSchema }>();

type Validated<T extends Target, S extends ObjectSchema> = {
  in: { [K in T]: v.InferInput<S> };
  out: { [K in T]: v.InferOutput<S> };
};

/** Validates one part of the request against a schema; the first problem is answered 422, naming its field. */
export function validate<T extends Target, S extends ObjectSchema>(
  target: T,
  schema: S,
): MiddlewareHandler<AppEnv, string, Validated<T, S>> {
  const middleware = createMiddleware<AppEnv, string, Validated<T, S>>(async function validate(c, next) {
    const input = await readTarget(c, target);
    if (target === "json") refuseUnknownFields(schema, input);
    const result = v.safeParse(schema, input);
    if (!result.success) throw invalidField(target, result.issues[0]);
    c.req.addValidatedData(target, result.output);
    await next();
  });
  validatedInputs.set(middleware, { target, schema });
  return middleware;
}

async function readTarget(c: Context<AppEnv>, target: Target): Promise<unknown> {
  if (target === "param") return c.req.param();
  if (target === "query") {
    // A repeated key arrives as a list, so the schema can refuse it by name.
    return Object.fromEntries(
      Object.entries(c.req.queries()).map(([key, all]) => [key, all.length === 1 ? all[0] : all]),
    );
  }
  const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim() ?? "";
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new AppError(415, "unsupported_media_type", "Send the body as JSON, with `Content-Type: application/json`");
  }
  let body: unknown;
  try {
    body = JSON.parse(await readText(c.req.raw, MAX_JSON_BODY_BYTES));
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError(400, "invalid_json", "body must be valid JSON", "body");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AppError(422, "invalid_field", "body must be a JSON object", "body");
  }
  return body;
}

const bodyTooLarge = (limit: number) =>
  new AppError(413, "body_too_large", `body must be at most ${limit} bytes`, "body");

/** Reads a body of at most `limit` bytes, refusing a longer one by its declared length or as soon as it grows past. */
async function readText(request: Request, limit: number): Promise<string> {
  if (Number(request.headers.get("Content-Length") ?? 0) > limit) throw bodyTooLarge(limit);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw bodyTooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** Valibot's first issue as one sentence that starts with the field: "name must be a string". */
function invalidField(target: Target, issue: v.BaseIssue<unknown>): AppError {
  const field = issue.path?.map((item) => String(item.key)).join(".") || (target === "json" ? "body" : target);
  let problem = issue.message;
  if (issue.type === "object" && issue.path && issue.received === "undefined") problem = "is required";
  else if (target === "query" && Array.isArray(issue.input))
    problem = `must be given once, not ${issue.input.length} times`;
  return new AppError(422, "invalid_field", `${field} ${problem}`, field);
}

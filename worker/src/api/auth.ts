import { createMiddleware } from "hono/factory";
import type { AppEnv, Env } from "../env.ts";
import { AppError } from "../errors.ts";
import { ACCESS_ASSERTION, bearerToken, whichToken } from "../gateway-credentials.ts";
import type { Actor } from "../registry/records.ts";
import { accessSettings, verifyAccessAssertion } from "./access.ts";

const unauthorized = (message: string) =>
  new AppError(401, "unauthorized", message, undefined, {
    headers: { "WWW-Authenticate": 'Bearer realm="daeploy-edge"' },
  });

/** The gate's POST only reads (a Flagger webhook must POST): the read token may call it. */
const READING_POST = /\/services\/[^/]+\/[^/]+\/gate$/;

/** Whether a call only reads: GET and HEAD, and the gate's POST. Everything else is a write. */
export const isReadCall = (method: string, path: string): boolean =>
  method === "GET" || method === "HEAD" || (method === "POST" && READING_POST.test(path));

/** Who is calling: the admin token, the read token, or a user Cloudflare Access signed in. */
async function identify(env: Env, authorization: string, assertion: string | undefined): Promise<Actor> {
  const bearer = bearerToken(authorization);
  if (bearer) {
    const token = await whichToken(env, bearer);
    if (token === "admin") return "admin-token";
    if (token === "read") return "read-token";
    throw unauthorized(
      env.READ_TOKEN ? "The token is neither the admin token nor the read token" : "The admin token is wrong",
    );
  }
  const access = accessSettings(env);
  if (access && assertion) {
    const check = await verifyAccessAssertion(access, assertion);
    if (!check.ok) throw unauthorized(`The Cloudflare Access assertion was refused: ${check.reason}`);
    return `access:${check.email}`;
  }
  throw unauthorized("Send the admin token (or the read token) as `Authorization: Bearer <token>`");
}

/**
 * Bearer auth against the ADMIN_TOKEN and READ_TOKEN secrets, or a Cloudflare Access assertion;
 * with no admin token set, the API refuses everything. The read token may only read.
 */
export function adminAuth() {
  return createMiddleware<AppEnv>(async function adminAuth(c, next) {
    if (!c.env.ADMIN_TOKEN) {
      throw new AppError(
        503,
        "admin_token_unset",
        "The admin API is disabled because the ADMIN_TOKEN secret is not set; " +
          "set it with `wrangler secret put ADMIN_TOKEN` (or in .dev.vars for local development)",
      );
    }
    const actor = await identify(c.env, c.req.header("Authorization") ?? "", c.req.header(ACCESS_ASSERTION));
    if (actor === "read-token" && !isReadCall(c.req.method, c.req.path)) {
      throw new AppError(
        403,
        "read_only",
        `The read token may only read; ${c.req.method} ${c.req.path} needs the admin token or Cloudflare Access`,
      );
    }
    c.set("actor", actor);
    await next();
  });
}

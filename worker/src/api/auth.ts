import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { AppError } from "../errors.ts";

const encoder = new TextEncoder();
const sha256 = (text: string) => crypto.subtle.digest("SHA-256", encoder.encode(text));

/** Hashing first gives equal lengths, so the comparison time says nothing about the token. */
async function tokensMatch(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(given), sha256(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

const unauthorized = (message: string) =>
  new AppError(401, "unauthorized", message, undefined, {
    headers: { "WWW-Authenticate": 'Bearer realm="daeploy-edge"' },
  });

/** Bearer auth against the ADMIN_TOKEN secret; with no secret set, the API refuses everything. */
export function adminAuth() {
  return createMiddleware<AppEnv>(async function adminAuth(c, next) {
    const expected = c.env.ADMIN_TOKEN;
    if (!expected) {
      throw new AppError(
        503,
        "admin_token_unset",
        "The admin API is disabled because the ADMIN_TOKEN secret is not set; " +
          "set it with `wrangler secret put ADMIN_TOKEN` (or in .dev.vars for local development)",
      );
    }
    const header = c.req.header("Authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw unauthorized("Send the admin token as `Authorization: Bearer <token>`");
    if (!(await tokensMatch(match[1], expected))) throw unauthorized("The admin token is wrong");
    await next();
  });
}

import { createMiddleware } from "hono/factory";
import type { AppEnv, Env } from "../env.ts";
import { AppError } from "../errors.ts";
import { accessWarning } from "./access.ts";

/** The operator's paths: the dashboard, the admin API and `/`, which leads to the dashboard. */
const isAdminPath = (path: string): boolean => path === "/" || /^\/(dashboard|api\/v1)(\/|$)/.test(path);

/**
 * With ADMIN_HOSTNAME set, the operator's paths answer only on that host and nothing else does there:
 * a proxied service never shares an origin with the dashboard, so its scripts cannot reach it.
 * Empty (local development), one host serves both.
 */
export const splitAdminHost = createMiddleware<AppEnv>(async function splitAdminHost(c, next) {
  logAccessWarning(c.env);
  const adminHost = c.env.ADMIN_HOSTNAME?.trim().toLowerCase();
  if (!adminHost) return next();
  const onAdminHost = new URL(c.req.url).hostname.toLowerCase() === adminHost;
  const adminPath = isAdminPath(c.req.path);
  if (onAdminHost && !adminPath) {
    throw new AppError(
      404,
      "not_found",
      `Nothing at ${c.req.path} on the admin host; services are served on the others`,
    );
  }
  if (!onAdminHost && adminPath) {
    throw new AppError(404, "not_found", `Nothing at ${c.req.path}; services live under /services/<name>/`);
  }
  return next();
});

// Once per isolate: the first request says it in the log, as a gateway's start would.
let warned = false;

function logAccessWarning(env: Env): void {
  if (warned) return;
  warned = true;
  const warning = accessWarning(env);
  if (warning) console.warn(JSON.stringify({ event: "config_warning", warning }));
}

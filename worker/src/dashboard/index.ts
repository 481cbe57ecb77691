import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { AppError } from "../errors.ts";

/**
 * Only this origin's own files and API, nothing inline, never in a frame. The page builds its DOM with
 * text nodes and loads uPlot's CSS as a file, so it needs nothing looser.
 */
const DASHBOARD_HEADERS = {
  "content-security-policy": [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; "),
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
} as const;

/**
 * The operator's page at /dashboard/: the static files of dashboard/ (wrangler.toml [assets]), served
 * through the Worker so that every request, the deploy check's probe included, meets the Worker first.
 */
export const serveDashboard = createMiddleware<AppEnv>(async function serveDashboard(c) {
  const file = await c.env.ASSETS.fetch(c.req.raw);
  if (file.status === 404) {
    await file.body?.cancel();
    throw new AppError(404, "not_found", `Nothing at ${c.req.path}; the dashboard is at /dashboard/`);
  }
  const headers = new Headers(file.headers);
  for (const [name, value] of Object.entries(DASHBOARD_HEADERS)) headers.set(name, value);
  return new Response(file.body, { status: file.status, statusText: file.statusText, headers });
});

import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";

/**
 * A proxied service shares its origin with the dashboard. `Service-Worker-Allowed` would let a
 * service's script claim a scope above its own path (`/`, so `/dashboard/` too); without it,
 * a service worker registered from `/services/<name>/` can control nothing outside that path.
 */
export const confineServiceWorkers = createMiddleware<AppEnv>(async function confineServiceWorkers(c, next) {
  await next();
  const response = c.res;
  if (!response.headers.has("service-worker-allowed")) return;
  // An upgrade's 101 carries its WebSocket and cannot be rebuilt; a browser never registers a worker from it.
  if (response.status === 101 || response.webSocket) return;
  const headers = new Headers(response.headers);
  headers.delete("service-worker-allowed");
  // Hono copies the old response's headers onto a new one; clearing it first is how a header goes.
  c.res = undefined;
  c.res = new Response(response.body, { status: response.status, statusText: response.statusText, headers });
});

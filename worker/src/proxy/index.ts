import { Hono } from "hono";
import { readConfig } from "../config.ts";
import type { AppEnv } from "../env.ts";
import { AppError } from "../errors.ts";
import { readBodyForMirroring } from "./body.ts";
import { decodeSegment, forwardedHeaders, shadowHeaders, splitServicePath, targetUrl } from "./forward.ts";
import { fetchMain } from "./main.ts";
import { logNotMirrored, mirrorToShadows } from "./mirror.ts";
import { resolveRoute } from "./route-table.ts";

const notFound = (segment: string) =>
  new AppError(
    404,
    "service_not_found",
    segment === ""
      ? "Name a service: /services/<name>/ or /services/<name>_<version>/"
      : `No service at /services/${segment}`,
  );

const isWebSocketUpgrade = (headers: Headers) => headers.get("upgrade")?.toLowerCase() === "websocket";

/** The shadow proxy, mounted at /services: main answers, shadows get copies in the background. */
export const proxy = new Hono<AppEnv>();

proxy.all("*", async (c) => {
  const request = c.req.raw;
  const path = splitServicePath(request.url);
  if (!path) throw notFound("");
  const segment = decodeSegment(path.segment);
  const config = readConfig(c.env);
  const route = segment ? await resolveRoute(c.env.DB, segment, config.routesCacheTtlMs) : undefined;
  if (!route) throw notFound(path.segment);

  const requestId = request.headers.get("x-request-id") || crypto.randomUUID();
  const upgrade = isWebSocketUpgrade(request.headers);
  const headers = forwardedHeaders(request.headers, { path, requestId, upgrade });
  const { method } = request;

  // Tunnels are one conversation with one origin; a copy of their opening request means nothing to a shadow.
  const mainOnly = upgrade ? "WebSocket upgrade" : method === "CONNECT" ? "CONNECT" : undefined;

  // One version, or nothing to mirror to: stream the body straight through.
  if (route.kind === "pinned" || route.shadows.length === 0 || mainOnly) {
    const main = route.kind === "pinned" ? route.target : route.main;
    if (mainOnly && route.kind === "group") logNotMirrored(route.shadows, requestId, mainOnly);
    const url = targetUrl(main.origin, path.rest, path.search);
    return fetchMain(main, url, { method, headers, body: request.body }, config.originTimeoutMs);
  }

  const { main, shadows } = route;
  const forward = await readBodyForMirroring(
    request.body,
    request.headers.get("content-length"),
    config.mirrorMaxBodyBytes,
  );
  // Main's copy starts first, so that when shadows exceed the runtime's open-connection limit they queue, not main.
  const answer = fetchMain(
    main,
    targetUrl(main.origin, path.rest, path.search),
    { method, headers, body: forward.body },
    config.originTimeoutMs,
  );
  if (forward.mirrored) {
    const copy = {
      name: main.name,
      requestId,
      method,
      headers: shadowHeaders(headers),
      body: forward.body,
      rest: path.rest,
      search: path.search,
      timeoutMs: config.shadowTimeoutMs,
    };
    c.executionCtx.waitUntil(mirrorToShadows(shadows, copy));
  } else {
    logNotMirrored(shadows, requestId, `body too large (over ${config.mirrorMaxBodyBytes} bytes)`);
  }
  return answer;
});

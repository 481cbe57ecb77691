import { Hono } from "hono";
import { readConfig } from "../config.ts";
import type { AppEnv } from "../env.ts";
import { AppError } from "../errors.ts";
import { readBodyForMirroring } from "./body.ts";
import {
  decodeSegment,
  forwardedHeaders,
  isUsableRequestId,
  markAsShadow,
  SHADOW_MARKER,
  SHADOW_PROOF,
  shadowHeaders,
  splitServicePath,
  targetUrl,
} from "./forward.ts";
import { type GatewayKey, gatewayKey } from "./gateway-key.ts";
import { hopsThrough } from "./loops.ts";
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

/** Why a request goes to main alone, or `undefined` when it is mirrored. */
function mainOnlyReason(ownCopy: boolean, upgrade: boolean, method: string): string | undefined {
  if (ownCopy) return "already a shadow copy";
  // Tunnels are one conversation with one origin; a copy of their opening request means nothing to a shadow.
  if (upgrade) return "WebSocket upgrade";
  if (method === "CONNECT") return "CONNECT";
  return undefined;
}

/** The proof of a copy this gateway made, or `undefined` for anything a client sent. */
async function ownShadowProof(headers: Headers, requestId: string, key: GatewayKey): Promise<string | undefined> {
  const proof = headers.get(SHADOW_PROOF);
  if (proof === null || headers.get(SHADOW_MARKER) !== "1") return undefined;
  return (await key.verify("shadow", requestId, proof)) ? proof : undefined;
}

/** The shadow proxy, mounted at /services: main answers, shadows get copies in the background. */
export const proxy = new Hono<AppEnv>();

proxy.all("*", async (c) => {
  const request = c.req.raw;
  const path = splitServicePath(request.url);
  if (!path) throw notFound("");
  const { method } = request;
  // The runtime would refuse to send it on; that is the client's mistake, not main's failure.
  if ((method === "GET" || method === "HEAD") && request.body !== null) {
    throw new AppError(400, "body_not_allowed", `A ${method} request cannot have a body; send it without one`);
  }
  const config = readConfig(c.env);
  const key = await gatewayKey(c.env);
  const hops = hopsThrough(request.headers.get("via"), key.id);
  if (hops >= config.maxHops) {
    throw new AppError(
      508,
      "loop_detected",
      `This request has passed through this gateway ${hops} times; an origin leads back to the gateway, so it is sent nowhere`,
    );
  }
  const segment = decodeSegment(path.segment);
  const route = segment ? await resolveRoute(c.env.DB, segment, config.routesCacheTtlMs) : undefined;
  if (!route) throw notFound(path.segment);

  const clientRequestId = request.headers.get("x-request-id");
  const requestId = isUsableRequestId(clientRequestId) ? clientRequestId : crypto.randomUUID();
  const upgrade = isWebSocketUpgrade(request.headers);
  const headers = forwardedHeaders(request.headers, { path, requestId, upgrade, gatewayId: key.id });
  // One of this gateway's own copies came back in (a shadow's origin leads here): main only, still marked.
  const ownCopyProof = await ownShadowProof(request.headers, requestId, key);
  if (ownCopyProof) markAsShadow(headers, ownCopyProof);

  const mainOnly = mainOnlyReason(ownCopyProof !== undefined, upgrade, method);

  // One version, or nothing to mirror to: stream the body straight through.
  if (route.kind === "pinned" || route.shadows.length === 0 || mainOnly) {
    const [main, role] = route.kind === "pinned" ? [route.target, "pinned" as const] : [route.main, "main" as const];
    if (mainOnly && route.kind === "group") logNotMirrored(route.shadows, requestId, mainOnly);
    const url = targetUrl(main.origin, path.rest, path.search);
    return fetchMain(main, role, url, { method, headers, body: request.body }, config.originTimeoutMs);
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
    "main",
    targetUrl(main.origin, path.rest, path.search),
    { method, headers, body: forward.body },
    config.originTimeoutMs,
  );
  if (forward.mirrored) {
    const copy = {
      name: main.name,
      requestId,
      method,
      headers: shadowHeaders(headers, await key.sign("shadow", requestId)),
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

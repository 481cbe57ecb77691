import { appendVia } from "./loops.ts";
import { continueTraceAsShadow } from "./trace.ts";

/** The parts of a gateway URL that forwarding needs, cut from the raw URL so nothing is re-encoded. */
export interface ServicePath {
  /** `http` or `https`, as the client reached the gateway. */
  proto: string;
  /** Host (and port) the client addressed. */
  host: string;
  /** The segment after /services/, exactly as sent (still percent-encoded). */
  segment: string;
  /** Everything after the segment: "" or a path that starts with "/". */
  rest: string;
  /** The query string with its "?", or "". */
  search: string;
}

const PREFIX = "/services/";

/**
 * Cuts `scheme://host/services/<seg>/<rest>?<query>` into its parts; `undefined`
 * when the path is not under /services/. Plain string work: this runs on every request.
 */
export function splitServicePath(url: string): ServicePath | undefined {
  const schemeEnd = url.indexOf("://");
  if (schemeEnd < 0) return undefined;
  const pathStart = url.indexOf("/", schemeEnd + 3);
  if (pathStart < 0 || !url.startsWith(PREFIX, pathStart)) return undefined;
  const queryStart = url.indexOf("?", pathStart);
  const pathEnd = queryStart < 0 ? url.length : queryStart;
  const segmentStart = pathStart + PREFIX.length;
  const slash = url.indexOf("/", segmentStart);
  const segmentEnd = slash < 0 || slash > pathEnd ? pathEnd : slash;
  return {
    proto: url.slice(0, schemeEnd),
    host: url.slice(schemeEnd + 3, pathStart),
    segment: url.slice(segmentStart, segmentEnd),
    rest: url.slice(segmentEnd, pathEnd),
    search: queryStart < 0 ? "" : url.slice(queryStart),
  };
}

/** The segment as a name or `name_version`; `undefined` when its percent-encoding is broken. */
export function decodeSegment(segment: string): string | undefined {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Origin (already without a trailing slash, base path kept) + rest (or "/") + the client's query. */
export const targetUrl = (origin: string, rest: string, search: string): string =>
  `${origin}${rest === "" ? "/" : rest}${search}`;

// RFC 9110 section 7.6.1, plus the old Proxy-Connection and Keep-Alive.
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/** The header a shadow's copy carries so the shadow can tell it is one. */
export const SHADOW_MARKER = "x-daeploy-shadow";
/** This gateway's signature of a copy's request id: how it knows a copy that comes back in as its own. */
export const SHADOW_PROOF = "x-daeploy-shadow-proof";

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** A client's X-Request-Id is kept only if it is 1–128 visible ASCII characters. */
export const isUsableRequestId = (id: string | null): id is string => id !== null && REQUEST_ID.test(id);

interface ForwardingFacts {
  path: ServicePath;
  requestId: string;
  /** A WebSocket upgrade keeps its Upgrade header; the runtime performs the handshake. */
  upgrade: boolean;
  /** This gateway's name in `Via`. */
  gatewayId: string;
}

/** The client's headers minus hop-by-hop ones, plus X-Forwarded-*, Via and the shared X-Request-Id. */
export function forwardedHeaders(incoming: Headers, { path, requestId, upgrade, gatewayId }: ForwardingFacts): Headers {
  const headers = new Headers(incoming);
  const connection = incoming.get("connection");
  if (connection !== null) {
    for (const token of connection.split(",")) {
      const name = token.trim().toLowerCase();
      if (name !== "" && !(upgrade && name === "upgrade")) headers.delete(name);
    }
  }
  for (const name of HOP_BY_HOP) {
    if (!(upgrade && name === "upgrade")) headers.delete(name);
  }
  const clientIp = incoming.get("cf-connecting-ip");
  if (clientIp !== null) {
    const before = incoming.get("x-forwarded-for");
    headers.set("x-forwarded-for", before ? `${before}, ${clientIp}` : clientIp);
  }
  headers.set("x-forwarded-proto", path.proto);
  headers.set("x-forwarded-host", path.host);
  headers.set("x-forwarded-prefix", `${PREFIX}${path.segment}`);
  headers.set("x-request-id", requestId);
  headers.set("via", appendVia(incoming.get("via"), gatewayId));
  // Only the gateway may mark a copy as a shadow; a client cannot make main believe it is one.
  headers.delete(SHADOW_MARKER);
  headers.delete(SHADOW_PROOF);
  return headers;
}

/** Marks headers as a shadow copy's, with the proof that this gateway made it. */
export function markAsShadow(headers: Headers, proof: string): Headers {
  headers.set(SHADOW_MARKER, "1");
  headers.set(SHADOW_PROOF, proof);
  return headers;
}

/** A shadow copy's headers: main's, marked, and in the client's trace as a span of its own. */
export const shadowHeaders = (mainHeaders: Headers, proof: string): Headers =>
  continueTraceAsShadow(markAsShadow(new Headers(mainHeaders), proof));

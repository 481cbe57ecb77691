import { Hono } from "hono";
import { readConfig } from "../config.ts";
import type { AppEnv, Env } from "../env.ts";
import { AppError } from "../errors.ts";
import { type Evidence, evidenceFor } from "../evidence/collection.ts";
import { type ForwardBody, readBodyForMirroring } from "./body.ts";
import { answerByCanary, pickCanary, withdrawCanary } from "./canary-answer.ts";
import { keepCredentialsAtGateway } from "./credentials.ts";
import {
  decodeSegment,
  forwardedHeaders,
  isUsableRequestId,
  markAsShadow,
  SHADOW_MARKER,
  SHADOW_PROOF,
  shadowHeaders,
  splitServicePath,
} from "./forward.ts";
import {
  type Copies,
  exchangeOf,
  type Forwarding,
  forwardOnly,
  type GroupRoute,
  mainSideOf,
  pauses,
} from "./forwarding.ts";
import { type GatewayKey, gatewayKey } from "./gateway-key.ts";
import { compareAndLog, countNotSent } from "./hand-off.ts";
import { type CopyFacts, hopsThrough, signShadowProof, verifyShadowProof } from "./loops.ts";
import {
  logMirror,
  mirrorToShadows,
  type NotMirroredReason,
  type ShadowCopy,
  type ShadowOutcome,
  SkippedCopies,
  sendCopy,
  sendShadow,
} from "./mirror.ts";
import { captureTapFor } from "./replay-capture.ts";
import { type NoRoute, resolveRoute, type Shadow, type Target } from "./route-table.ts";
import { isSampled, noiseBucket } from "./sampling.ts";
import { pauseKey, selectShadows } from "./selection.ts";

const notFound = (segment: string, miss?: NoRoute) => {
  const known = miss?.pinnedName;
  let message = `No service at /services/${segment}`;
  if (segment === "") message = "Name a service: /services/<name>/ or /services/<name>_<version>/";
  // The name is right and the version is not: say which versions there are.
  else if (known)
    message = `${known.name} has no version ${known.version}; its versions are ${known.versions.join(", ")} (/services/${known.name}_<version>/, or /services/${known.name}/ for main)`;
  return new AppError(404, "service_not_found", message);
};

const isWebSocketUpgrade = (headers: Headers) => headers.get("upgrade")?.toLowerCase() === "websocket";

/** Why a request goes to main alone, or `undefined` when it is mirrored. */
function mainOnlyReason(ownCopy: boolean, upgrade: boolean, method: string): NotMirroredReason | undefined {
  if (ownCopy) return "already a shadow copy";
  // Tunnels are one conversation with one origin; a copy of their opening request means nothing to a shadow.
  if (upgrade) return "WebSocket upgrade";
  if (method === "CONNECT") return "CONNECT";
  return undefined;
}

/** The proof of a copy this gateway made, or `undefined` for anything a client sent. */
async function ownShadowProof(headers: Headers, facts: CopyFacts, key: GatewayKey): Promise<string | undefined> {
  const proof = headers.get(SHADOW_PROOF);
  if (proof === null || headers.get(SHADOW_MARKER) !== "1") return undefined;
  return (await verifyShadowProof(key, facts, proof)) ? proof : undefined;
}

/** Per isolate: the tally of requests that sent no copy at all. */
const skippedCopies = new SkippedCopies();

/** The shadow proxy, mounted at /services: main answers, shadows get copies in the background. */
export const proxy = new Hono<AppEnv>();

proxy.all("*", async (c) => {
  const request = c.req.raw;
  const { path, config, key, route } = await admit(c.env, request);
  const clientRequestId = request.headers.get("x-request-id");
  const requestId = isUsableRequestId(clientRequestId) ? clientRequestId : crypto.randomUUID();
  const upgrade = isWebSocketUpgrade(request.headers);
  const headers = forwardedHeaders(request.headers, { path, requestId, upgrade, gatewayId: key.id });
  const accessAssertion = await keepCredentialsAtGateway(headers, c.env);
  // One of this gateway's own copies came back in (a shadow's origin leads here): main only, still marked.
  const copyFacts: CopyFacts = {
    requestId,
    method: request.method,
    segment: path.segment,
    target: `${path.rest}${path.search}`,
  };
  const ownCopyProof = await ownShadowProof(request.headers, copyFacts, key);
  if (ownCopyProof) markAsShadow(headers, ownCopyProof);
  const forwarding: Forwarding = {
    method: request.method,
    headers,
    path,
    requestId,
    config,
    // Main's own traffic is counted for every name, shadows or not; it rides in the evidence batch.
    // COMPARE_RESPONSES = "off" records nothing at all, this included.
    evidence: config.compareResponses ? evidenceFor(c.env, config) : undefined,
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    events: c.env.EVIDENCE_EVENTS,
    redactionKey: key.redactionKey,
    accessAssertion,
  };

  // One version, or nothing to mirror to: stream the body straight through.
  if (route.kind === "pinned") return forwardOnly(forwarding, route.target, "pinned", request.body);
  if (!ownCopyProof && !upgrade) forwarding.capture = captureTapFor(c.env, route, forwarding);
  if (route.shadows.length === 0) return forwardOnly(forwarding, route.main, "main", request.body);
  const mainOnly = mainOnlyReason(ownCopyProof !== undefined, upgrade, request.method);
  if (mainOnly) {
    logMirror(route.main.name, requestId, skippedAll(route.shadows, mainOnly), config.mirrorLog);
    return forwardOnly(forwarding, route.main, "main", request.body);
  }
  return serveGroup(forwarding, route, request, { key, copyFacts });
});

/**
 * The checks before anything is forwarded: a service path, no body on GET or HEAD, not a loop
 * through this gateway, and a route for the service segment.
 */
async function admit(env: Env, request: Request) {
  const path = splitServicePath(request.url);
  if (!path) throw notFound("");
  const { method } = request;
  // The runtime would refuse to send it on; that is the client's mistake, not main's failure.
  if ((method === "GET" || method === "HEAD") && request.body !== null) {
    throw new AppError(400, "body_not_allowed", `A ${method} request cannot have a body; send it without one`);
  }
  const config = readConfig(env);
  const key = await gatewayKey(env);
  const hops = hopsThrough(request.headers.get("via"), key.id);
  if (hops >= config.maxHops) {
    throw new AppError(
      508,
      "loop_detected",
      `This request has passed through this gateway ${hops} times; an origin leads back to the gateway, so it is sent nowhere`,
    );
  }
  const segment = decodeSegment(path.segment);
  const route = segment ? await resolveRoute(env.DB, segment, config.routesCacheTtlMs) : undefined;
  if (!route || route.kind === "none") throw notFound(path.segment, route);
  return { path, config, key, route };
}

/**
 * A name with shadows: a canary may answer in main's place, the other shadows are selected (sampling,
 * methods, pauses), the body is read once for every copy, and main answers the rest.
 */
async function serveGroup(
  forwarding: Forwarding,
  route: GroupRoute,
  request: Request,
  { key, copyFacts }: { key: GatewayKey; copyFacts: CopyFacts },
): Promise<Response> {
  const { method, requestId, config, evidence, waitUntil, headers, path, accessAssertion } = forwarding;
  const { main, shadows } = route;
  // A canary answers this request in main's place; the other shadows get copies as usual.
  const { canary, others, held } = pickCanary(main.name, shadows, { method, requestId, headers: request.headers });
  const selection = selectShadows(main.name, others, { method, requestId }, pauses);
  const notSent = [...held, ...selection.skipped];
  const skipped: ShadowOutcome[] = notSent.map(({ version, reason }) => ({ version, skipped: reason }));
  if (selection.send.length === 0 && !canary) {
    skippedCopies.add(main.name, notSent, waitUntil);
    if (evidence) countNotSent(evidence, { name: main.name, main: main.version, waitUntil }, skipped);
    return forwardOnly(forwarding, main, "main", request.body);
  }

  let body: ForwardBody;
  try {
    body = await readBodyForMirroring(request.body, request.headers.get("content-length"), config.mirrorMaxBodyBytes);
  } catch (error) {
    withdraw(main.name, selection.send, canary);
    throw error;
  }
  if (!body.mirrored) {
    withdraw(main.name, selection.send, canary);
    // A body too large to replay cannot be answered by a canary either: main answers it.
    const notSent = [...skippedAll([...(canary ? [canary] : []), ...selection.send], "body too large"), ...skipped];
    logMirror(main.name, requestId, notSent, config.mirrorLog);
    if (evidence) countNotSent(evidence, { name: main.name, main: main.version, waitUntil }, notSent);
    return forwardOnly(forwarding, main, "main", body.body);
  }

  // Signed while main's copy is already on its way (see the steps below).
  const copy = async (): Promise<ShadowCopy> => ({
    name: main.name,
    requestId,
    method,
    // Where every copy's headers are made: the shadow marker and proof on top of main's.
    headers: shadowHeaders(headers, await signShadowProof(key, copyFacts, config.shadowTimeoutMs)),
    body: body.body,
    rest: path.rest,
    search: path.search,
    timeoutMs: config.shadowTimeoutMs,
    // Every copy (and the noise twin) starts now: one timer for all of them.
    ...(config.shadowTimeoutMs > 0 && { deadline: AbortSignal.timeout(config.shadowTimeoutMs) }),
    accessAssertion,
  });
  const copies = { shadows: selection.send, copy, skipped };
  if (canary) return answerByCanary(forwarding, route, canary, body.body, copies);
  return evidence
    ? mirrorAndCompare(forwarding, evidence, route, body.body, copies)
    : mirror(forwarding, main, body.body, copies);
}

/**
 * Main answers; every selected shadow gets its copy in the background and nothing is compared
 * (`COMPARE_RESPONSES = "off"`). Main's copy starts first, so that when copies exceed the
 * runtime's open-connection limit they queue, not main.
 */
async function mirror(forwarding: Forwarding, main: Target, body: BodyInit | null, copies: Copies) {
  const answer = forwardOnly(forwarding, main, "main", body);
  forwarding.waitUntil(
    mirrorToShadows(copies.shadows, await copies.copy(), pauses, copies.skipped, forwarding.config.mirrorLog),
  );
  return answer;
}

/**
 * Main answers, and its body is split for comparison (read whole when small, else tee'd: the
 * client's branch streams untouched while the other is read). Every selected shadow's copy is
 * read too, and (for a share of GET/HEAD requests) a marked copy to main itself teaches noise;
 * the evidence is collected in waitUntil.
 */
async function mirrorAndCompare(
  forwarding: Forwarding,
  evidence: Evidence,
  route: GroupRoute,
  body: BodyInit | null,
  { shadows, copy: makeCopy, skipped }: Copies,
): Promise<Response> {
  const { method, requestId, config, waitUntil } = forwarding;
  const { main, policy } = route;
  const mainStarted = Date.now();
  const answer = forwardOnly(forwarding, main, "main", body);
  const copy = await makeCopy();
  const capture = { cap: config.compareMaxBodyBytes, memory: evidence.memory };
  const answers = shadows.map((shadow) => sendShadow(shadow, copy, pauses, capture));
  // Noise: a marked copy to main itself, for a share of GET/HEAD requests chosen apart from the shadows' share.
  const learnsNoise = (method === "GET" || method === "HEAD") && isSampled(noiseBucket(requestId), policy.noisePercent);
  const twin = learnsNoise ? sendCopy(main, copy, capture) : undefined;
  const answered = mainSideOf(answer, mainStarted, capture, config.shadowTimeoutMs);
  const exchange = exchangeOf(forwarding, route);
  waitUntil(
    compareAndLog(
      evidence,
      exchange,
      answered.then(({ side }) => side),
      answers,
      twin,
      skipped,
    ),
  );
  // Main's own failure (502/504) reaches the client as before.
  return (await answered).client ?? answer;
}

/** Every copy that goes unsent for one reason, as the mirror line shows it. */
const skippedAll = (shadows: readonly Shadow[], reason: NotMirroredReason): ShadowOutcome[] =>
  shadows.map(({ version }) => ({ version, skipped: reason }));

/** Copies admitted by the pauses (and a canary by its breaker) but never sent give their trial back. */
function withdraw(name: string, shadows: readonly Shadow[], canary: Shadow | undefined): void {
  for (const shadow of shadows) pauses.withdraw(pauseKey(name, shadow));
  if (canary) withdrawCanary(name, canary);
}

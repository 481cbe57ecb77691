import { AppError, reasonOf } from "../errors.ts";
import type { CopyAnswer, MainSide } from "../evidence/answers.ts";
import { chooseCanary } from "./canary.ts";
import { splitForComparison } from "./capture.ts";
import { headersForVersion } from "./credentials.ts";
import { targetUrl } from "./forward.ts";
import {
  type Copies,
  exchangeOf,
  type Forwarding,
  forwardOnly,
  type GroupRoute,
  mainSideOf,
  pauses,
} from "./forwarding.ts";
import { compareAndLog, logOutcomes, type MirroredExchange, recordUnpairedAndLog } from "./hand-off.ts";
import { fetchMain } from "./main.ts";
import { type ShadowOutcome, sendCopy, sendShadow } from "./mirror.ts";
import { ShadowPauses } from "./pause.ts";
import { refusesConnections } from "./refused.ts";
import type { Shadow } from "./route-table.ts";
import { pauseKey, type SkipReason } from "./selection.ts";
import { withoutHeaders } from "./strip.ts";

/** Safe methods (RFC 9110 §9.2.1): main may get a copy of them, since repeating one changes nothing. */
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);
/** Idempotent methods (RFC 9110 §9.2.2): sending one again has the effect of sending it once. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);
/** How long the check whether a failed canary refuses connections may take; a refusal takes a round trip. */
const REFUSAL_CHECK_MS = 1_000;

/**
 * Per isolate: the canaries' circuit breaker, the shadows' pause rule applied to answers. A canary
 * whose answers fail (no connection, no headers within SHADOW_TIMEOUT_MS, or a 5xx) 5 times in a
 * row answers nobody for 10 s; then one request tries it again.
 */
const breaker = new ShadowPauses();

/** Which shadow answers this request, the shadows that may get copies, and a canary held back by its breaker. */
interface CanaryPick {
  canary: Shadow | undefined;
  others: Shadow[];
  held: { version: string; reason: SkipReason }[];
}

/**
 * The canary of a request (see ./canary.ts), if it may answer: it answers only the methods its
 * `mirrorMethods` names, and not while its breaker is open. A canary held back by its breaker gets no
 * copy of the request either, and counts as `paused` (its `down` evidence), as a paused shadow does.
 * An admitted canary must be answered by `answerByCanary`, or given back with `withdrawCanary`.
 */
export function pickCanary(
  name: string,
  shadows: Shadow[],
  request: { method: string; requestId: string; headers: Headers },
): CanaryPick {
  const picked = chooseCanary(shadows, request.requestId, request.headers);
  if (!picked || (picked.mirrorMethods !== null && !picked.mirrorMethods.includes(request.method))) {
    return { canary: undefined, others: shadows, held: [] };
  }
  const others = shadows.filter((shadow) => shadow !== picked);
  if (!breaker.admit(pauseKey(name, picked))) {
    return { canary: undefined, others, held: [{ version: picked.version, reason: "paused" }] };
  }
  return { canary: picked, others, held: [] };
}

/** Gives back the breaker's trial that `pickCanary` admitted for a request the canary never got. */
export const withdrawCanary = (name: string, canary: Shadow): void => breaker.withdraw(pauseKey(name, canary));

type CanaryFailure = { ok: false; error: string; timedOut: boolean; ms: number };

/**
 * The canary answers the client with the client's request (unmarked, through its `stripHeaders`).
 * Main gets a marked copy of it, once the canary has answered, for the paired evidence, but only of
 * a safe method, or where the canary's version opted in with `canaryWrites`: main does not know the
 * marker, and a copy of a write would do it twice. Any other request is counted unpaired.
 */
export async function answerByCanary(
  forwarding: Forwarding,
  route: GroupRoute,
  canary: Shadow,
  body: Blob | null,
  copies: Copies,
): Promise<Response> {
  const { method, headers, path, config, evidence, waitUntil, accessAssertion } = forwarding;
  const started = Date.now();
  const stripped = canary.stripHeaders.length > 0 ? withoutHeaders(headers, canary.stripHeaders) : headers;
  const own = headersForVersion(stripped, canary, accessAssertion);
  const url = targetUrl(canary.origin, path.rest, path.search);
  const answering = fetchMain(canary, "canary", url, { method, headers: own, body }, config.shadowTimeoutMs).then(
    (response) => ({ ok: true as const, response, ms: Date.now() - started }),
    (error: unknown): CanaryFailure => ({
      ok: false,
      error: reasonOf(error),
      timedOut: error instanceof AppError && error.code === "origin_timeout",
      ms: Date.now() - started,
    }),
  );
  const copy = await copies.copy();
  const capture = evidence ? { cap: config.compareMaxBodyBytes, memory: evidence.memory } : undefined;
  const answers = copies.shadows.map((shadow) => sendShadow(shadow, copy, pauses, capture));
  const answered = await answering;
  breaker.report(pauseKey(route.main.name, canary), answered.ok && answered.response.status < 500);
  const exchange = { ...exchangeOf(forwarding, route), canary: canary.version };
  if (!answered.ok) {
    return canaryFailed(forwarding, route, { canary, body, exchange, skipped: copies.skipped }, answered, answers);
  }

  const { response, ms } = answered;
  const paired = SAFE_METHODS.has(method) || canary.canaryWrites;
  const answer = { ok: true as const, version: canary.version, status: response.status, headers: response.headers, ms };
  let client = response;
  let canaryAnswer: Promise<CopyAnswer> = Promise.resolve(answer);
  if (capture && paired) {
    const split = await splitForComparison(response, capture.cap, capture.memory, config.shadowTimeoutMs);
    client = split.client;
    canaryAnswer = split.body.then((captured) => ({ ...answer, body: captured }));
  }
  const all = [canaryAnswer, ...answers];
  if (!paired) {
    waitUntil(
      evidence
        ? recordUnpairedAndLog(evidence, exchange, all, copies.skipped)
        : logOutcomes(exchange, all, copies.skipped),
    );
    return client;
  }
  // Sent only now that the canary answered: its own time limit, not the one the others started with.
  const mainCopy = sendCopy(route.main, { ...copy, deadline: undefined }, capture);
  if (evidence) waitUntil(compareAndLog(evidence, exchange, mainCopy.then(asMainSide), all, undefined, copies.skipped));
  else waitUntil(Promise.all([mainCopy, logOutcomes(exchange, all, copies.skipped)]));
  return client;
}

/**
 * A canary that sent no answer. Main answers instead, with a request of its own (unmarked, as if
 * there were no canary), only where that cannot do anything twice: the method is idempotent, or
 * the canary refused the connection, so nothing was sent. Otherwise the canary may have acted on
 * the request, and the client gets a 502 or 504 naming it. Either way it counts as the canary's error.
 */
async function canaryFailed(
  forwarding: Forwarding,
  route: GroupRoute,
  {
    canary,
    body,
    exchange,
    skipped,
  }: { canary: Shadow; body: Blob | null; exchange: MirroredExchange; skipped: ShadowOutcome[] },
  failure: CanaryFailure,
  answers: Promise<CopyAnswer>[],
): Promise<Response> {
  const { method, config, evidence, waitUntil } = forwarding;
  const failed: CopyAnswer = { ...failure, version: canary.version };
  const all = [Promise.resolve(failed), ...answers];
  const fallBack =
    IDEMPOTENT_METHODS.has(method) ||
    (!failure.timedOut && (await refusesConnections(canary.origin, REFUSAL_CHECK_MS)));
  if (!fallBack) {
    waitUntil(evidence ? recordUnpairedAndLog(evidence, exchange, all, skipped) : logOutcomes(exchange, all, skipped));
    return notRepeated(route.main.name, canary, method, failure, config.shadowTimeoutMs).getResponse();
  }
  const started = Date.now();
  const answer = forwardOnly(forwarding, route.main, "main", body);
  if (!evidence) {
    waitUntil(logOutcomes(exchange, all, skipped));
    return answer;
  }
  const capture = { cap: config.compareMaxBodyBytes, memory: evidence.memory };
  const answered = mainSideOf(answer, started, capture, config.shadowTimeoutMs);
  waitUntil(
    compareAndLog(
      evidence,
      exchange,
      answered.then(({ side }) => side),
      all,
      undefined,
      skipped,
    ),
  );
  // Main's own failure (502/504) reaches the client as it would without a canary.
  return (await answered).client ?? answer;
}

/** The client's answer when a canary may have acted on a request that must not be sent twice. */
function notRepeated(
  name: string,
  canary: Shadow,
  method: string,
  failure: CanaryFailure,
  timeoutMs: number,
): AppError {
  const who = `canary ${canary.version} of ${name}`;
  const why =
    `a ${method} is not idempotent and the canary may have acted on it, so it was not sent to main as well; ` +
    "check whether it took effect before sending it again";
  if (failure.timedOut) {
    return new AppError(504, "canary_timeout", `The ${who} sent no response within ${timeoutMs} ms; ${why}`);
  }
  return new AppError(502, "canary_failed", `The ${who} broke off before answering (${failure.error}); ${why}`);
}

/** A copy's answer in the shape main's side of a comparison takes: how main answered the copy it got. */
function asMainSide(answer: CopyAnswer): MainSide {
  const at = Date.now();
  if (!answer.ok) return { ok: false, ms: answer.ms, at };
  const body = answer.body ?? { incomplete: "memory" as const, reserved: 0 };
  return { ok: true, status: answer.status, headers: answer.headers, body: Promise.resolve(body), ms: answer.ms, at };
}

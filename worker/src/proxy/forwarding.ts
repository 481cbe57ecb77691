import type { CaptureTap } from "../capture/tap.ts";
import type { GatewayConfig } from "../config.ts";
import type { AppEnv } from "../env.ts";
import type { MainSide } from "../evidence/answers.ts";
import type { Evidence } from "../evidence/collection.ts";
import type { ComparisonMemory } from "../evidence/memory.ts";
import { routeOf } from "../evidence/paths.ts";
import { splitForComparison } from "./capture.ts";
import { headersForVersion } from "./credentials.ts";
import { type ServicePath, targetUrl } from "./forward.ts";
import type { MirroredExchange } from "./hand-off.ts";
import { fetchMain, type Role } from "./main.ts";
import type { ShadowCopy, ShadowOutcome } from "./mirror.ts";
import { ShadowPauses } from "./pause.ts";
import type { Route, Shadow, Target } from "./route-table.ts";

export type WaitUntil = (promise: Promise<unknown>) => void;

/** A name with a main, its shadows and its policy: what mirroring and canaries work on. */
export type GroupRoute = Route & { kind: "group" };

/** Per isolate: shadows whose copies keep failing to connect are paused here. */
export const pauses = new ShadowPauses();

/** One request on its way on: what every step needs to send it to main or copy it. */
export interface Forwarding {
  method: string;
  headers: Headers;
  path: ServicePath;
  requestId: string;
  config: GatewayConfig;
  /** The isolate's evidence collection; none with `COMPARE_RESPONSES = "off"`, which records nothing. */
  evidence: Evidence | undefined;
  waitUntil: WaitUntil;
  /** Analytics Engine, when configured: one data point per compared copy. */
  events: AppEnv["Bindings"]["EVIDENCE_EVENTS"];
  /** Stored samples are redacted under it (see evidence/redact.ts). */
  redactionKey: Uint8Array;
  /** Cloudflare Access's assertion, taken out of `headers`: only versions that opted in get it back. */
  accessAssertion: string | undefined;
  /** Set when the name's policy captures this request: main's copy and answer pass through it. */
  capture?: CaptureTap;
}

/** The copies of one request: who gets one, what it is, and who got none and why. */
export interface Copies {
  shadows: Shadow[];
  /** Made once main's copy has started: signing it must not delay main. */
  copy: () => Promise<ShadowCopy>;
  skipped: ShadowOutcome[];
}

/**
 * Main's (or the pinned version's) copy of the request, its answer streamed back as it arrives.
 * Main's answers are counted as main's own traffic when its headers arrive (or it fails).
 */
export function forwardOnly(
  forwarding: Forwarding,
  target: Target,
  role: Role,
  body: BodyInit | null,
): Promise<Response> {
  const { method, headers, path, config, accessAssertion } = forwarding;
  const capture = role === "main" ? forwarding.capture : undefined;
  const started = Date.now();
  const fetched = fetchMain(
    target,
    role,
    targetUrl(target.origin, path.rest, path.search),
    { method, headers: headersForVersion(headers, target, accessAssertion), body: capture?.body(body) ?? body },
    config.originTimeoutMs,
  );
  const answer = capture ? capture.answer(fetched, started) : fetched;
  if (role === "main" && forwarding.evidence) countMain(forwarding.evidence, forwarding.waitUntil, target, answer);
  return answer;
}

/** One request of main's own traffic; a main that could not answer counts as a 5xx. */
function countMain(evidence: Evidence, waitUntil: WaitUntil, target: Target, answer: Promise<Response>): void {
  const started = Date.now();
  const count = (status: number) => {
    const at = Date.now();
    evidence.batcher.addMain(target.name, target.version, at, status, at - started, waitUntil);
  };
  answer.then(
    (response) => count(response.status),
    () => count(0),
  );
}

/**
 * Main's answer to the client, split for comparison: a small body read whole and given to both, any
 * other tee'd, the client's branch streaming untouched while the other is read (splitForComparison).
 * A main that could not answer leaves `client` undefined (its 502/504 is the answer).
 */
export function mainSideOf(
  answer: Promise<Response>,
  started: number,
  capture: { cap: number; memory: ComparisonMemory },
  timeoutMs: number,
): Promise<{ client: Response | undefined; side: MainSide }> {
  return answer.then(
    async (response) => {
      const at = Date.now();
      // Main's compared branch gets the shadows' time limit, so a slow stream cannot hold memory for long.
      const { client, body } = await splitForComparison(response, capture.cap, capture.memory, timeoutMs);
      const side: MainSide = {
        ok: true,
        status: response.status,
        headers: response.headers,
        body,
        ms: at - started,
        at,
      };
      return { client, side };
    },
    () => {
      const at = Date.now();
      const side: MainSide = { ok: false, ms: at - started, at };
      return { client: undefined, side };
    },
  );
}

/** What the evidence keeps of this request beside each copy's answer, compared with main. */
export function exchangeOf(forwarding: Forwarding, { main, policy }: GroupRoute): MirroredExchange {
  const { method, requestId, path, waitUntil, events, redactionKey, config } = forwarding;
  const url = `/services/${path.segment}${path.rest}${path.search}`;
  const base = {
    name: main.name,
    main: main.version,
    requestId,
    method,
    url,
    route: routeOf(method, path.rest),
    policy,
  };
  return { ...base, waitUntil, events, redactionKey, mirrorLog: config.mirrorLog };
}

import { type CapturedExchange, isRedacted, redactExchange } from "../capture/record.ts";
import type { ExchangeSample, ShadowResult } from "../evidence/batch.ts";
import { type CapturedAnswer, compareAnswers, type Difference, prepareAnswer } from "../evidence/compare.ts";
import type { EvidencePolicy } from "../evidence/verdict.ts";
import { markAsShadow, targetUrl } from "../proxy/forward.ts";
import type { GatewayKey } from "../proxy/gateway-key.ts";
import { appendVia, signShadowProof } from "../proxy/loops.ts";

/** The header every replayed request carries: the replay's id. */
const REPLAY_HEADER = "x-daeploy-replay";

/** What one replayed request needs besides the captured exchange. */
export interface Replaying {
  replayId: string;
  name: string;
  key: GatewayKey;
  policy: EvidencePolicy;
  timeoutMs: number;
  /** Largest body read of an answer. */
  capBytes: number;
}

/** An answer as read, redacted like the capture it is compared with; or the failure to get one. */
type ReplayedAnswer =
  | { ok: true; status: number; headers: Record<string, string>; body: string; truncated: boolean; ms: number }
  | { ok: false; ms: number };

/**
 * The captured request as it is sent again: its headers without the redacted ones (a credential that
 * was never stored is never sent), a request id of its own, `Via`, the copy marker with this gateway's
 * proof, and X-Daeploy-Replay.
 */
async function replayHeaders(exchange: CapturedExchange, requestId: string, at: Replaying): Promise<Headers> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(exchange.headers)) {
    if (!isRedacted(value) && name !== "content-length") headers.set(name, value);
  }
  headers.set("x-request-id", requestId);
  headers.set("via", appendVia(null, at.key.id));
  headers.set(REPLAY_HEADER, at.replayId);
  const facts = { requestId, method: exchange.method, segment: at.name, target: exchange.url };
  return markAsShadow(headers, await signShadowProof(at.key, facts, at.timeoutMs));
}

async function readText(response: Response, cap: number): Promise<{ body: string; truncated: boolean }> {
  if (!response.body) return { body: "", truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (bytes + value.byteLength > cap) {
      await reader.cancel().catch(() => undefined);
      return { body: new TextDecoder().decode(concat(chunks, bytes)), truncated: true };
    }
    chunks.push(value);
    bytes += value.byteLength;
  }
  return { body: new TextDecoder().decode(concat(chunks, bytes)), truncated: false };
}

function concat(chunks: Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** Sends the captured request to one origin and reads its answer, redacted as the capture was. */
export async function replayTo(
  origin: string,
  exchange: CapturedExchange,
  requestId: string,
  at: Replaying,
): Promise<ReplayedAnswer> {
  const started = Date.now();
  const signal = AbortSignal.timeout(at.timeoutMs);
  try {
    const response = await fetch(
      targetUrl(origin, exchange.url === "/" ? "" : exchange.url.replace(/\?.*$/, ""), searchOf(exchange.url)),
      {
        method: exchange.method,
        headers: await replayHeaders(exchange, requestId, at),
        body: exchange.body === null || exchange.method === "GET" || exchange.method === "HEAD" ? null : exchange.body,
        redirect: "manual",
        signal,
      },
    );
    const ms = Date.now() - started;
    const read = await readText(response, at.capBytes);
    const redacted = redactExchange(
      {
        ...exchange,
        main: { version: "", status: response.status, headers: Object.fromEntries(response.headers), ...read, ms },
      },
      { key: at.key.redactionKey, paths: at.policy.redact ?? [] },
    ).main;
    return {
      ok: true,
      status: redacted.status,
      headers: redacted.headers,
      body: redacted.body,
      truncated: redacted.truncated,
      ms,
    };
  } catch {
    return { ok: false, ms: Date.now() - started };
  }
}

const searchOf = (url: string) => {
  const query = url.indexOf("?");
  return query < 0 ? "" : url.slice(query);
};

/** An answer as the comparison reads it: content-type, location, set-cookie and the policy's headers. */
function comparable(
  answer: { status: number; headers: Record<string, string>; body: string; truncated: boolean },
  names: readonly string[],
): CapturedAnswer {
  const picked: Record<string, string> = {};
  for (const name of ["content-type", "location", "set-cookie", ...names]) {
    const value = answer.headers[name];
    if (value !== undefined) picked[name] = value;
  }
  return { status: answer.status, headers: picked, body: answer.body, bodyComplete: !answer.truncated };
}

/** The differences between main's captured answer and a replayed one, when both bodies could be compared. */
export function differencesOf(
  exchange: CapturedExchange,
  answer: ReplayedAnswer & { ok: true },
  policy: EvidencePolicy,
): { compared: boolean; differences: readonly Difference[] } {
  const names = policy.headers ?? [];
  const comparison = compareAnswers(prepareAnswer(comparable(exchange.main, names)), comparable(answer, names), {
    headers: names,
    rules: policy.rules,
  });
  return { compared: comparison.body === "compared", differences: comparison.differences };
}

/** One replayed request's evidence, as a shadow copy's would be, under the replay's own baseline. */
export function replayResult(
  exchange: CapturedExchange,
  answer: ReplayedAnswer,
  context: { version: string; replayId: string; requestId: string; policy: EvidencePolicy },
): ShadowResult {
  const base = {
    version: context.version,
    baseline: `replay:${context.replayId}`,
    at: Date.now(),
    mainError: exchange.main.status >= 500,
    differences: [] as readonly Difference[],
  };
  if (!answer.ok) return { ...base, outcome: "error" };
  const latencyMs = { main: exchange.main.ms, shadow: answer.ms };
  if (answer.status >= 500) return { ...base, outcome: "error", latencyMs };
  if (base.mainError || exchange.main.truncated) return { ...base, outcome: "notCompared", latencyMs };
  const { compared, differences } = differencesOf(exchange, answer, context.policy);
  const sample = (): ExchangeSample => ({
    at: new Date(base.at).toISOString(),
    requestId: context.requestId,
    method: exchange.method,
    url: exchange.url,
    paths: [...new Set(differences.map((d) => d.path))],
    main: {
      status: exchange.main.status,
      headers: exchange.main.headers,
      body: exchange.main.body.slice(0, 8192),
      truncated: exchange.main.truncated,
    },
    shadow: {
      status: answer.status,
      headers: answer.headers,
      body: answer.body.slice(0, 8192),
      truncated: answer.truncated,
    },
  });
  return { ...base, outcome: compared ? "compared" : "notCompared", differences, latencyMs, sample };
}

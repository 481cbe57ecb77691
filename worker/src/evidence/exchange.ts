import { reasonOf } from "../errors.ts";
import { type CapturedBody, type CopyAnswer, capturedAnswer, type MainSide } from "./answers.ts";
import type { ExchangeSample, ShadowResult } from "./batch.ts";
import { sampleSide } from "./batch.ts";
import type { Evidence } from "./collection.ts";
import { type CapturedAnswer, compareAnswers, PreparedAnswer } from "./compare.ts";
import { redactSample } from "./redact.ts";
import type { EvidencePolicy } from "./verdict.ts";

type WaitUntil = (promise: Promise<unknown>) => void;

/** What one mirrored request is, for the evidence it leaves. */
export interface Exchange {
  name: string;
  /** Main's version: the baseline every copy of this request is compared with. */
  main: string;
  requestId: string;
  method: string;
  /** The path and query the client asked the gateway for. */
  url: string;
  /** Method and origin path, identifier segments folded (routeOf): noise is kept per route. */
  route: string;
  policy: EvidencePolicy;
  waitUntil: WaitUntil;
  /** Analytics Engine, when bound: one data point per copy. */
  events?: AnalyticsEngineDataset | undefined;
  /** Samples are redacted under it before they leave the isolate. */
  redactionKey: Uint8Array;
  /** The version that answered the client as a canary, if one did: its pair is counted apart. */
  canary?: string;
}

/** A shadow that got no copy of a request; `down` when that was its own doing (unreachable or paused). */
export interface UnsentCopy {
  version: string;
  down: boolean;
}

/** Shadows that got no copy of a request still count: as `down` when it was their own doing, else under `skipped`. */
export function recordSkipped(
  evidence: Evidence,
  exchange: Pick<Exchange, "name" | "main" | "waitUntil">,
  skipped: readonly UnsentCopy[],
): void {
  const at = Date.now();
  const { name, main, waitUntil } = exchange;
  for (const { version, down } of skipped) {
    if (down) evidence.batcher.addDown(name, version, main, at, waitUntil);
    else evidence.batcher.addSkipped(name, version, main, at, waitUntil);
  }
}

const isError = (side: { ok: boolean; status?: number }) => !side.ok || (side.status ?? 0) >= 500;

const headerRecord = (headers: Headers): Record<string, string> => Object.fromEntries(headers);

function sampleAnswer(status: number, headers: Headers, body: CapturedBody): CapturedAnswer {
  return { status, headers: headerRecord(headers), body: body.bytes, bodyComplete: body.bytes !== undefined };
}

/**
 * Waits for main's answer and each copy's, compares them, and hands the
 * results to the isolate's evidence collection. Runs in waitUntil and never rejects.
 */
export async function compareExchange(
  evidence: Evidence,
  exchange: Exchange,
  mainSide: Promise<MainSide>,
  copies: Promise<CopyAnswer>[],
  twin: Promise<CopyAnswer> | undefined,
  skipped: readonly UnsentCopy[],
): Promise<void> {
  const reserved: number[] = [];
  try {
    const main = await mainSide;
    const compared = exchange.policy.headers ?? [];
    let mainBody: CapturedBody | undefined;
    let prepared: PreparedAnswer | undefined;
    if (main.ok) {
      mainBody = await main.body;
      reserved.push(mainBody.reserved);
      prepared = new PreparedAnswer(capturedAnswer(main.status, main.headers, mainBody, compared));
    }
    // Each copy's body is let go once it is compared: a slow shadow holds only main's, not the others'.
    const results = copies.map(async (pending) => {
      const copy = await pending;
      try {
        const result = shadowResult(exchange, main, mainBody, prepared, copy);
        evidence.addShadow(exchange.name, result, exchange.waitUntil, exchange.events);
      } finally {
        if (copy.ok && copy.body) evidence.memory.release(copy.body.reserved);
      }
    });
    await Promise.all(results);
    if (twin) {
      const copy = await twin;
      if (copy.ok && copy.body) reserved.push(copy.body.reserved);
      if (prepared && copy.ok && copy.body) {
        const comparison = compareAnswers(prepared, capturedAnswer(copy.status, copy.headers, copy.body, compared), {
          headers: compared,
          rules: exchange.policy.rules,
          ignore: exchange.policy.ignore,
        });
        // Only a twin whose body was compared (in full, or by digest past the cap) tells noise.
        if (comparison.body === "compared") {
          evidence.batcher.addNoise(
            exchange.name,
            { main: exchange.main, at: main.at, differences: comparison.differences, route: exchange.route },
            exchange.waitUntil,
          );
        }
      }
    }
    recordSkipped(evidence, exchange, skipped);
  } catch (error) {
    console.error(JSON.stringify({ event: "compare_failed", name: exchange.name, reason: reasonOf(error) }));
  } finally {
    for (const bytes of reserved) evidence.memory.release(bytes);
  }
}

/**
 * The one outcome of one copy: `error` when it failed (whatever its body
 * would have shown), `notCompared` when its body could not be compared,
 * else `compared` with its differences. A copy cut off at its timeout, or
 * whose body broke after its headers, enters the shadow's latency at that time.
 */
function shadowResult(
  exchange: Exchange,
  main: MainSide,
  mainBody: CapturedBody | undefined,
  prepared: PreparedAnswer | undefined,
  copy: CopyAnswer,
): ShadowResult {
  const base = {
    version: copy.version,
    baseline: exchange.main,
    at: main.at,
    mainError: isError(main),
    differences: [],
    route: exchange.route,
    ...(exchange.canary === copy.version && { canary: true }),
  };
  if (!copy.ok) {
    // Timed at the timeout (at least) or at the break after the headers; a copy that never connected has no latency.
    const timed = copy.timedOut || copy.afterHeaders === true;
    const latencyMs = main.ok && timed ? { main: main.ms, shadow: copy.ms, atLeast: copy.timedOut } : undefined;
    return { ...base, outcome: "error", latencyMs };
  }
  const latencyMs = main.ok ? { main: main.ms, shadow: copy.ms } : undefined;
  if (copy.status >= 500) return { ...base, outcome: "error", latencyMs };
  // Main never answered or failed (its answer is no reference), or a body the memory bound kept out:
  // answered, not compared. A main failure the shadow did not share counts for it in the paired error rule.
  if (!main.ok || base.mainError || !prepared || !mainBody || !copy.body) {
    return { ...base, outcome: "notCompared", latencyMs };
  }
  if (mainBody.incomplete === "memory" || copy.body.incomplete === "memory") {
    return { ...base, outcome: "notCompared", latencyMs };
  }
  const shadowBody = copy.body;
  const names = exchange.policy.headers ?? [];
  const comparison = compareAnswers(prepared, capturedAnswer(copy.status, copy.headers, shadowBody, names), {
    headers: names,
    rules: exchange.policy.rules,
    ignore: exchange.policy.ignore,
  });
  // Where a redaction of sampled bodies belongs: both sides pass through here before they are kept.
  const sample = (): ExchangeSample => ({
    at: new Date(main.at).toISOString(),
    requestId: exchange.requestId,
    method: exchange.method,
    url: exchange.url,
    paths: [...new Set(comparison.differences.map((d) => d.path))],
    main: sampleSide(sampleAnswer(main.status, main.headers, mainBody)),
    shadow: sampleSide(sampleAnswer(copy.status, copy.headers, shadowBody)),
  });
  return {
    ...base,
    outcome: comparison.body === "compared" ? "compared" : "notCompared",
    differences: comparison.differences,
    latencyMs,
    sample: () => redactSample(sample(), { key: exchange.redactionKey, paths: exchange.policy.redact ?? [] }),
  };
}

/**
 * A request main never saw: a write a canary answered, where main is not opted in for copies of
 * writes. Each answer still counts, as `error` when it failed or answered 5xx, else as answered but
 * not compared (there is no answer of main's to compare it with). Main counts as not failing on it,
 * so one of main's own failures never excuses an unpaired one. Runs in waitUntil and never rejects.
 */
export async function recordUnpaired(
  evidence: Evidence,
  exchange: Exchange,
  copies: Promise<CopyAnswer>[],
  skipped: readonly UnsentCopy[],
): Promise<void> {
  try {
    const results = copies.map(async (pending) => {
      const copy = await pending;
      if (copy.ok && copy.body) evidence.memory.release(copy.body.reserved);
      const result: ShadowResult = {
        version: copy.version,
        baseline: exchange.main,
        at: Date.now(),
        outcome: isError(copy) ? "error" : "notCompared",
        differences: [],
        mainError: false,
        route: exchange.route,
        ...(exchange.canary === copy.version && { canary: true }),
      };
      evidence.addShadow(exchange.name, result, exchange.waitUntil, exchange.events);
    });
    await Promise.all(results);
    recordSkipped(evidence, exchange, skipped);
  } catch (error) {
    console.error(JSON.stringify({ event: "compare_failed", name: exchange.name, reason: reasonOf(error) }));
  }
}

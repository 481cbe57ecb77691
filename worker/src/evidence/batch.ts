import type { Difference } from "./compare.ts";
import type { Counters } from "./counters.ts";
import { type ExchangeSample, SAMPLE_WINDOW_MS, SAMPLES_PER_PATH } from "./exchange-sample.ts";
import { boundDifferences, MAX_FIELDS_PER_VERSION } from "./fields.ts";
import type { HistogramJson } from "./histogram.ts";
import { PendingBatch, PendingMain } from "./pending.ts";
import { MAX_ROUTES_PER_NAME, noiseKey, signatureOf } from "./verdict.ts";

export {
  cutBody,
  type ExchangeSample,
  SAMPLE_BODY_BYTES,
  SAMPLE_WINDOW_MS,
  SAMPLES_PER_PATH,
  type SampleSide,
  sampleSide,
} from "./exchange-sample.ts";

/**
 * How one copy that was sent ended: its bodies compared (`same` or
 * `different` is decided when the report reads the differences), answered
 * but not body-compared, or failed.
 */
export type SentOutcome = "compared" | "notCompared" | "error";

/** One shadow's outcome for one mirrored request. */
export interface ShadowResult {
  version: string;
  /** The main this copy was compared with: evidence is kept per baseline. */
  baseline: string;
  /** When main's answer arrived, ms since the epoch; decides the minute. */
  at: number;
  outcome: SentOutcome;
  /** For `compared` and `notCompared` (status and headers are compared even when a body is not). */
  differences: readonly Difference[];
  mainError: boolean;
  /** Latency of both sides on this request; a timed-out copy's shadow side is its timeout (`atLeast`). */
  latencyMs?: { main: number; shadow: number; atLeast?: boolean };
  /** Built only when the batch still wants a sample for one of the paths. */
  sample?: () => ExchangeSample;
  /** The shadow answered the client as a canary, and main's answer is the copy. */
  canary?: boolean;
  /** The request's route (routeOf): noise is kept, and excuses, per route. Absent: OTHER_ROUTES. */
  route?: string;
}

/** One main-against-main exchange (a twin copy). */
export interface NoiseResult {
  /** The version that was main: noise describes the main it was learned on. */
  main: string;
  at: number;
  differences: readonly Difference[];
  route?: string;
}

/** One (version, baseline, minute) of counters, latencies and signatures. */
export interface MinuteCounts extends Counters {
  version: string;
  /** The main version the shadow was compared with in this minute. */
  baseline: string;
  minute: number;
  latencyMain: HistogramJson;
  latencyShadow: HistogramJson;
  /** Of compared requests: signature (its route and differences) → count. */
  signatures: Record<string, number>;
  /** Of notCompared requests whose status or headers differed: signature → count. */
  partialSignatures: Record<string, number>;
  /** Route → requests with field detail on it: each field's rate on a route is over these. */
  routes: Record<string, number>;
}

/** Fields an older isolate did not send (see countersFromWire). */
type NewerCounters = "canary" | "errorsShadowOnly" | "errorsMainOnly" | "routes";
/** A minute as any isolate may have sent it; the ledger completes it before it is kept. */
export type WireMinuteCounts = Omit<MinuteCounts, NewerCounters> & Partial<Pick<MinuteCounts, NewerCounters>>;

export interface NoiseMinute {
  /** The version that was main; absent from batches written by an older isolate. */
  main?: string;
  minute: number;
  sampled: number;
  /** Route → twin copies on it. */
  routes: Record<string, number>;
  /** `route\tpath kind` → twin copies on that route where main differed from itself that way. */
  paths: Record<string, number>;
}

/** One minute of main's own traffic: every request main served, with or without shadows. */
export interface MainMinute {
  /** The version that was main for these requests. */
  version: string;
  minute: number;
  requests: number;
  /** Requests by status class: 2xx, 3xx, 4xx, 5xx (a main that could not be reached answered 502/504). */
  status: [number, number, number, number];
  /** Time to main's response headers. */
  latency: HistogramJson;
}

export interface EvidenceBatch {
  /** Main's own traffic; absent from batches written by an older isolate. */
  main?: MainMinute[];
  shadows: WireMinuteCounts[];
  noise: NoiseMinute[];
  samples: (ExchangeSample & { version: string })[];
  /** Requests whose detail, or samples, this isolate dropped at its memory bound since the last flush. */
  dropped: number;
}

export type EvidenceSink = (name: string, batch: EvidenceBatch) => Promise<void>;

export interface BatcherOptions {
  /** A name's batch is sent this long after its first result: at most one write per name per interval. */
  intervalMs?: number;
  /** Past these bounds a batch keeps counting every request but drops samples and field detail (`unrecorded`). */
  maxSamples?: number;
  maxBytes?: number;
  maxSignatures?: number;
  /** Distinct fields per version in one batch; past it a new field is recorded as `body many`. */
  maxFields?: number;
  /** Distinct routes per name in one batch; past it a route is counted as OTHER_ROUTES. */
  maxRoutes?: number;
  /** Each (version, path) is offered at most SAMPLES_PER_PATH samples per this many ms, and again after. */
  sampleWindowMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

export interface BatcherStats {
  flushes: number;
  failedFlushes: number;
  dropped: number;
}

type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * Gathers one isolate's evidence per name and sends it to the ledger in
 * batches. The first result of a fresh batch schedules its flush in that
 * request's waitUntil, `intervalMs` later, so each name gets at most one
 * write per interval from this isolate. Evidence is best effort: a failed
 * flush is counted and logged, and never rejects.
 */
export class EvidenceBatcher {
  readonly stats: BatcherStats = { flushes: 0, failedFlushes: 0, dropped: 0 };
  readonly #pending = new Map<string, PendingBatch>();
  /**
   * Samples offered per name, version and path in the current window. The
   * window moves on, so an isolate keeps offering fresh samples for as long
   * as differences keep coming (and after the ledger forgot a version).
   */
  readonly #sampled = new Map<string, { since: number; count: number }>();
  readonly #intervalMs: number;
  readonly #maxSamples: number;
  readonly #maxBytes: number;
  readonly #maxSignatures: number;
  readonly #maxFields: number;
  readonly #maxRoutes: number;
  readonly #sampleWindowMs: number;
  readonly #now: () => number;
  readonly #log: (line: string) => void;

  readonly sink: EvidenceSink;

  constructor(sink: EvidenceSink, options: BatcherOptions = {}) {
    this.sink = sink;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#maxSamples = options.maxSamples ?? 50;
    this.#maxBytes = options.maxBytes ?? 512 * 1024;
    this.#maxSignatures = options.maxSignatures ?? 2000;
    this.#maxFields = options.maxFields ?? MAX_FIELDS_PER_VERSION;
    this.#maxRoutes = options.maxRoutes ?? MAX_ROUTES_PER_NAME;
    this.#sampleWindowMs = options.sampleWindowMs ?? SAMPLE_WINDOW_MS;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? ((line) => console.log(line));
  }

  addShadow(name: string, result: ShadowResult, waitUntil: WaitUntil): void {
    const batch = this.#batchFor(name, waitUntil);
    const minute = batch.minute(result.version, result.baseline, result.at);
    const { counts } = minute;
    counts.mirrored++;
    if (result.canary) counts.canary++;
    if (result.mainError) counts.errorsMain++;
    // The paired error rule reads, per request, which side failed alone.
    const shadowFailed = result.outcome === "error";
    if (shadowFailed && !result.mainError) counts.errorsShadowOnly++;
    if (result.mainError && !shadowFailed) counts.errorsMainOnly++;
    if (result.latencyMs) {
      minute.latencyMain.add(result.latencyMs.main);
      if (result.latencyMs.atLeast) minute.latencyShadow.addAtLeast(result.latencyMs.shadow);
      else minute.latencyShadow.add(result.latencyMs.shadow);
    }
    // A copy that failed is an error, whatever its answer would have shown.
    if (shadowFailed) {
      counts.errorsShadow++;
      return;
    }
    const partial = result.outcome === "notCompared";
    const route = batch.route(result.route, this.#maxRoutes);
    if (result.differences.length === 0) {
      if (partial) counts.notCompared++;
      else counts.compared++;
      minute.routes.set(route, (minute.routes.get(route) ?? 0) + 1);
      return;
    }
    const differences = boundDifferences(result.differences, batch.fieldsOf(result.version), this.#maxFields);
    const signature = signatureOf(differences, route);
    const signatures = partial ? minute.partialSignatures : minute.signatures;
    if (!signatures.has(signature)) {
      if (batch.signatures >= this.#maxSignatures || batch.bytes + signature.length > this.#maxBytes) {
        // Counted all the same: answered, but what differed is lost.
        counts.notCompared++;
        counts.unrecorded++;
        this.#drop(batch);
        return;
      }
      batch.signatures++;
      batch.bytes += signature.length;
    }
    signatures.set(signature, (signatures.get(signature) ?? 0) + 1);
    minute.routes.set(route, (minute.routes.get(route) ?? 0) + 1);
    if (partial) counts.notCompared++;
    else counts.compared++;
    if (result.sample) this.#maybeSample(name, batch, result, differences);
  }

  /**
   * One request main served, mirrored or not: main's own traffic. It rides
   * in the same batch as the evidence, so a name gets no extra writes.
   * `status` 0 is a main that never answered (the client got 502 or 504).
   */
  addMain(name: string, version: string, at: number, status: number, ms: number, waitUntil: WaitUntil): void {
    const batch = this.#batchFor(name, waitUntil);
    const key = `${Math.floor(at / 60_000)}\t${version}`;
    let counts = batch.main.get(key);
    if (!counts) {
      counts = new PendingMain();
      batch.main.set(key, counts);
    }
    counts.requests++;
    const statusClass = status < 300 ? 0 : status < 400 ? 1 : status < 500 ? 2 : 3;
    // 1xx (a switched protocol) counts with 2xx: main answered.
    counts.status[status === 0 ? 3 : statusClass]++;
    counts.latency.add(ms);
  }

  /** A selected copy never sent because its shadow is marked unreachable or paused: the `down` outcome. */
  addDown(name: string, version: string, baseline: string, at: number, waitUntil: WaitUntil): void {
    this.#batchFor(name, waitUntil).minute(version, baseline, at).counts.down++;
  }

  /** A shadow the traffic controls (or the proxy) gave no copy of this request: counted under `skipped` only. */
  addSkipped(name: string, version: string, baseline: string, at: number, waitUntil: WaitUntil): void {
    this.#batchFor(name, waitUntil).minute(version, baseline, at).counts.skipped++;
  }

  addNoise(name: string, result: NoiseResult, waitUntil: WaitUntil): void {
    const batch = this.#batchFor(name, waitUntil);
    const minute = Math.floor(result.at / 60_000);
    let noise = batch.noise.get(`${result.main}\t${minute}`);
    if (!noise) {
      noise = { main: result.main, minute, sampled: 0, routes: {}, paths: {} };
      batch.noise.set(`${result.main}\t${minute}`, noise);
    }
    const route = batch.route(result.route, this.#maxRoutes);
    const differences = boundDifferences(result.differences, batch.fieldsOf(""), this.#maxFields);
    const keys = new Set(differences.map((d) => noiseKey(route, d)));
    for (const key of keys) {
      if (!(key in noise.paths)) {
        if (batch.bytes + key.length > this.#maxBytes) {
          this.#drop(batch);
          return;
        }
        batch.bytes += key.length;
      }
    }
    noise.sampled++;
    noise.routes[route] = (noise.routes[route] ?? 0) + 1;
    for (const key of keys) noise.paths[key] = (noise.paths[key] ?? 0) + 1;
  }

  /** Sends a name's pending batch now; resolves when done, whether it worked or not. */
  async flush(name: string): Promise<void> {
    const batch = this.#pending.get(name);
    if (batch) await this.#send(name, batch);
  }

  async #send(name: string, batch: PendingBatch): Promise<void> {
    // A timer only sends the batch that set it: one flushed early by hand is not sent twice.
    if (this.#pending.get(name) !== batch) return;
    this.#pending.delete(name);
    const body = batch.toBatch();
    if (body.dropped > 0) {
      this.#log(JSON.stringify({ event: "evidence_dropped", name, dropped: body.dropped }));
    }
    try {
      await this.sink(name, body);
      this.stats.flushes++;
    } catch (error) {
      this.stats.failedFlushes++;
      this.#log(
        JSON.stringify({
          event: "evidence_flush_failed",
          name,
          reason: error instanceof Error ? error.message : String(error),
          exchanges: body.shadows.reduce((sum, m) => sum + m.mirrored, 0),
        }),
      );
    }
  }

  #batchFor(name: string, waitUntil: WaitUntil): PendingBatch {
    let batch = this.#pending.get(name);
    if (!batch) {
      batch = new PendingBatch();
      this.#pending.set(name, batch);
      const opened = batch;
      waitUntil(new Promise((resolve) => setTimeout(resolve, this.#intervalMs)).then(() => this.#send(name, opened)));
    }
    return batch;
  }

  #drop(batch: PendingBatch): void {
    batch.dropped++;
    this.stats.dropped++;
  }

  #maybeSample(name: string, batch: PendingBatch, result: ShadowResult, differences: readonly Difference[]): void {
    if (!result.sample || batch.samples.length >= this.#maxSamples) return;
    const now = this.#now();
    const wanted: string[] = [];
    for (const { path } of differences) {
      const offered = this.#sampled.get(`${name}\t${result.version}\t${path}`);
      if (!offered || now - offered.since >= this.#sampleWindowMs || offered.count < SAMPLES_PER_PATH) {
        wanted.push(path);
      }
    }
    if (wanted.length === 0) return;
    const sample = result.sample();
    const size = sample.main.body.length + sample.shadow.body.length + sample.url.length;
    if (batch.bytes + size > this.#maxBytes) {
      this.#drop(batch);
      return;
    }
    batch.bytes += size;
    batch.samples.push({ ...sample, version: result.version });
    // Bounded: a full memory starts over, which only means offering a few samples again.
    if (this.#sampled.size >= 10_000) this.#sampled.clear();
    for (const path of wanted) {
      const key = `${name}\t${result.version}\t${path}`;
      const offered = this.#sampled.get(key);
      if (!offered || now - offered.since >= this.#sampleWindowMs) this.#sampled.set(key, { since: now, count: 1 });
      else offered.count++;
    }
  }
}

import type { CapturedAnswer, Difference } from "./compare.ts";
import { type HistogramJson, LatencyHistogram } from "./histogram.ts";
import { signatureOf } from "./verdict.ts";

/** Largest body kept in a sample, in bytes. */
export const SAMPLE_BODY_BYTES = 8192;
/** Samples kept per (version, path). */
export const SAMPLES_PER_PATH = 5;

export interface SampleSide {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** True when the body was cut to 8 KiB here, or was already incomplete when captured. */
  truncated: boolean;
}

export interface ExchangeSample {
  at: string;
  requestId: string;
  method: string;
  url: string;
  paths: string[];
  main: SampleSide;
  shadow: SampleSide;
}

/** One shadow's outcome for one mirrored request. */
export interface ShadowResult {
  version: string;
  /** When main's answer arrived, ms since the epoch; decides the minute. */
  at: number;
  /** False when the exchange was mirrored but not compared (shadow failed, memory bound, comparison off). */
  compared: boolean;
  /** False when only status and headers were compared. */
  bodyCompared: boolean;
  differences: readonly Difference[];
  mainError: boolean;
  shadowError: boolean;
  /** Latency of both sides on this request, when both answered. */
  latencyMs?: { main: number; shadow: number };
  /** Built only when the batch still wants a sample for one of the paths. */
  sample?: () => ExchangeSample;
}

/** One main-against-main exchange. */
export interface NoiseResult {
  at: number;
  differences: readonly Difference[];
}

export interface MinuteCounts {
  version: string;
  minute: number;
  mirrored: number;
  compared: number;
  notCompared: number;
  skipped: number;
  errorsMain: number;
  errorsShadow: number;
  latencyMain: HistogramJson;
  latencyShadow: HistogramJson;
  signatures: Record<string, number>;
}

export interface NoiseMinute {
  minute: number;
  sampled: number;
  paths: Record<string, number>;
}

export interface EvidenceBatch {
  shadows: MinuteCounts[];
  noise: NoiseMinute[];
  samples: (ExchangeSample & { version: string })[];
  /** Results or samples this isolate dropped at its memory bound since the last flush. */
  dropped: number;
}

export type EvidenceSink = (name: string, batch: EvidenceBatch) => Promise<void>;

export interface BatcherOptions {
  /** A name's batch is sent this long after its first result: at most one write per name per interval. */
  intervalMs?: number;
  /** Past either bound a batch keeps counting but drops samples, and past maxSignatures drops results. */
  maxSamples?: number;
  maxBytes?: number;
  maxSignatures?: number;
  now?: () => number;
  log?: (line: string) => void;
}

export interface BatcherStats {
  flushes: number;
  failedFlushes: number;
  dropped: number;
}

type WaitUntil = (promise: Promise<unknown>) => void;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** At most 8 KiB of a body as text, cut where a UTF-8 character starts. */
export function cutBody(body: Uint8Array | string | undefined): { body: string; cut: boolean } {
  const bytes = typeof body === "string" ? encoder.encode(body) : (body ?? new Uint8Array());
  if (bytes.length <= SAMPLE_BODY_BYTES)
    return { body: typeof body === "string" ? body : decoder.decode(bytes), cut: false };
  let end = SAMPLE_BODY_BYTES;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return { body: decoder.decode(bytes.subarray(0, end)), cut: true };
}

/** One side of a sample, its body cut to 8 KiB. */
export function sampleSide(answer: CapturedAnswer): SampleSide {
  const { body, cut } = cutBody(answer.body);
  return { status: answer.status, headers: answer.headers, body, truncated: cut || !answer.bodyComplete };
}

class PendingMinute {
  mirrored = 0;
  compared = 0;
  notCompared = 0;
  skipped = 0;
  errorsMain = 0;
  errorsShadow = 0;
  readonly latencyMain = new LatencyHistogram();
  readonly latencyShadow = new LatencyHistogram();
  readonly signatures = new Map<string, number>();
}

class PendingBatch {
  readonly shadows = new Map<string, PendingMinute>();
  readonly noise = new Map<number, NoiseMinute>();
  readonly samples: (ExchangeSample & { version: string })[] = [];
  signatures = 0;
  bytes = 0;
  dropped = 0;

  toBatch(): EvidenceBatch {
    const shadows: MinuteCounts[] = [];
    for (const [key, m] of this.shadows) {
      const tab = key.indexOf("\t");
      shadows.push({
        version: key.slice(tab + 1),
        minute: Number(key.slice(0, tab)),
        mirrored: m.mirrored,
        compared: m.compared,
        notCompared: m.notCompared,
        skipped: m.skipped,
        errorsMain: m.errorsMain,
        errorsShadow: m.errorsShadow,
        latencyMain: m.latencyMain.toJson(),
        latencyShadow: m.latencyShadow.toJson(),
        signatures: Object.fromEntries(m.signatures),
      });
    }
    return { shadows, noise: [...this.noise.values()], samples: this.samples, dropped: this.dropped };
  }
}

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
  /** Samples this isolate has already sent per name, version and path: no need to send a sixth. */
  readonly #sampled = new Map<string, number>();
  readonly #intervalMs: number;
  readonly #maxSamples: number;
  readonly #maxBytes: number;
  readonly #maxSignatures: number;
  readonly #log: (line: string) => void;

  readonly sink: EvidenceSink;

  constructor(sink: EvidenceSink, options: BatcherOptions = {}) {
    this.sink = sink;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#maxSamples = options.maxSamples ?? 50;
    this.#maxBytes = options.maxBytes ?? 512 * 1024;
    this.#maxSignatures = options.maxSignatures ?? 2000;
    this.#log = options.log ?? ((line) => console.log(line));
  }

  addShadow(name: string, result: ShadowResult, waitUntil: WaitUntil): void {
    const batch = this.#batchFor(name, waitUntil);
    const minute = Math.floor(result.at / 60_000);
    const key = `${minute}\t${result.version}`;
    let counts = batch.shadows.get(key);
    if (!counts) {
      counts = new PendingMinute();
      batch.shadows.set(key, counts);
    }
    let signature = "";
    if (result.compared && result.differences.length > 0) {
      signature = signatureOf(result.differences);
      if (!counts.signatures.has(signature)) {
        if (batch.signatures >= this.#maxSignatures || batch.bytes + signature.length > this.#maxBytes) {
          this.#drop(batch);
          return;
        }
        batch.signatures++;
        batch.bytes += signature.length;
      }
    }
    counts.mirrored++;
    if (result.mainError) counts.errorsMain++;
    if (result.shadowError) counts.errorsShadow++;
    if (result.latencyMs) {
      counts.latencyMain.add(result.latencyMs.main);
      counts.latencyShadow.add(result.latencyMs.shadow);
    }
    if (!result.compared) {
      counts.skipped++;
      return;
    }
    counts.compared++;
    if (!result.bodyCompared) counts.notCompared++;
    if (signature !== "") {
      counts.signatures.set(signature, (counts.signatures.get(signature) ?? 0) + 1);
      if (result.sample) this.#maybeSample(name, batch, result);
    }
  }

  /** A shadow the traffic controls (or the proxy) gave no copy of this request: counted under `skipped` only. */
  addSkipped(name: string, version: string, at: number, waitUntil: WaitUntil): void {
    const batch = this.#batchFor(name, waitUntil);
    const key = `${Math.floor(at / 60_000)}\t${version}`;
    let counts = batch.shadows.get(key);
    if (!counts) {
      counts = new PendingMinute();
      batch.shadows.set(key, counts);
    }
    counts.skipped++;
  }

  addNoise(name: string, result: NoiseResult, waitUntil: WaitUntil): void {
    const batch = this.#batchFor(name, waitUntil);
    const minute = Math.floor(result.at / 60_000);
    let noise = batch.noise.get(minute);
    if (!noise) {
      noise = { minute, sampled: 0, paths: {} };
      batch.noise.set(minute, noise);
    }
    const seen = new Set<string>();
    for (const { path } of result.differences) {
      if (seen.has(path)) continue;
      seen.add(path);
      if (!(path in noise.paths)) {
        if (batch.bytes + path.length > this.#maxBytes) {
          this.#drop(batch);
          return;
        }
        batch.bytes += path.length;
      }
    }
    noise.sampled++;
    for (const path of seen) noise.paths[path] = (noise.paths[path] ?? 0) + 1;
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

  #maybeSample(name: string, batch: PendingBatch, result: ShadowResult): void {
    if (!result.sample || batch.samples.length >= this.#maxSamples) return;
    const wanted = new Set<string>();
    for (const { path } of result.differences) {
      if ((this.#sampled.get(`${name}\t${result.version}\t${path}`) ?? 0) < SAMPLES_PER_PATH) wanted.add(path);
    }
    if (wanted.size === 0) return;
    const sample = result.sample();
    const size = sample.main.body.length + sample.shadow.body.length + sample.url.length;
    if (batch.bytes + size > this.#maxBytes) {
      this.#drop(batch);
      return;
    }
    batch.bytes += size;
    batch.samples.push({ ...sample, version: result.version });
    // Bounded: past this many keys the isolate just stops remembering, and the ledger's own cap still holds.
    for (const path of wanted) {
      const key = `${name}\t${result.version}\t${path}`;
      if (this.#sampled.size < 10_000 || this.#sampled.has(key)) {
        this.#sampled.set(key, (this.#sampled.get(key) ?? 0) + 1);
      }
    }
  }
}

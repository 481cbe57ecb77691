import type { CapturedAnswer } from "./compare.ts";

/** Largest body kept in a sample, in bytes. */
export const SAMPLE_BODY_BYTES = 8192;
/** Samples kept per (version, path). */
export const SAMPLES_PER_PATH = 5;
/**
 * An isolate offers up to SAMPLES_PER_PATH samples per (version, path) in
 * each window this long, so samples stay fresh while differences keep coming.
 * The ledger keeps only the newest SAMPLES_PER_PATH: a shorter window makes
 * every isolate build, redact and send samples the ledger throws away (at
 * 2 s, 30 for each one kept, each write on the ledger's thread).
 */
export const SAMPLE_WINDOW_MS = 10_000;

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

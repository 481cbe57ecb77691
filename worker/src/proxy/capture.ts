import type { CapturedBody } from "../evidence/answers.ts";
import type { ComparisonMemory } from "../evidence/memory.ts";
import {
  declaredWithinCap,
  decodedAsSent,
  readSmallAnswer,
  WHOLE_ANSWER_BYTES,
  WHOLE_ANSWER_WAIT_MS,
} from "../small-answer.ts";
import { BodyDigest, MAX_HASHED_BYTES } from "./body-digest.ts";

const EMPTY: CapturedBody = { bytes: new Uint8Array(), reserved: 0 };

/** Media types compared event by event (see evidence/streams.ts). */
const STREAM_TYPES = /^\s*(text\/event-stream|application\/x-ndjson)\s*(;|$)/i;

/**
 * How a body is read, known from its headers before a byte is read: an event stream up to the cap
 * (a live stream may never end); a body declared over the cap only into a digest; any other in full.
 */
function readMode(headers: Headers, cap: number): "stream" | "hash" | "bytes" {
  if (STREAM_TYPES.test(headers.get("content-type") ?? "")) return "stream";
  const length = headers.get("content-length");
  return length !== null && Number(length) > cap ? "hash" : "bytes";
}

/**
 * What a body may hold once decoded: its declared length when nothing decodes it, else the cap
 * (a 100 KiB gzip answer can decode to 100 MiB; reading stops at the cap either way).
 */
function reservation(headers: Headers, cap: number): number {
  const length = Number(headers.get("content-length") ?? Number.NaN);
  return Number.isFinite(length) && length >= 0 && decodedAsSent(headers) ? length : cap;
}

function joined(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** A digest fed with what was held so far; the chunks are let go. */
async function digestOf(chunks: Uint8Array[]): Promise<BodyDigest | undefined> {
  const digest = BodyDigest.start();
  for (const chunk of chunks) await digest?.write(chunk);
  chunks.length = 0;
  return digest;
}

/**
 * Reads a body for comparison. Up to `cap` bytes are kept; past it, a body
 * goes on into a SHA-256 and only the digest is kept (over the cap when the
 * runtime cannot hash, or past MAX_HASHED_BYTES), while a `stream` stops
 * there with what it had. With `timeoutMs`, a body still arriving then is
 * cancelled (a slow stream must not hold comparison memory for long): a
 * stream keeps what it had, any other body is unreadable.
 */
export async function readCapped(
  body: ReadableStream<Uint8Array>,
  cap: number,
  timeoutMs = 0,
  stream = false,
): Promise<CapturedBody> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timedOut = false;
  let digest: BodyDigest | undefined;
  const stop = () => reader.cancel().catch(() => undefined);
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          stop();
        }, timeoutMs)
      : undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) {
        digest?.abort();
        return stream
          ? { bytes: joined(chunks, size), cut: true, reserved: 0 }
          : { incomplete: "unreadable", reserved: 0 };
      }
      if (done) break;
      if (size + value.byteLength <= cap && !digest) {
        size += value.byteLength;
        chunks.push(value);
        continue;
      }
      if (stream) {
        stop();
        return { bytes: joined(chunks, size), cut: true, reserved: 0 };
      }
      size += value.byteLength;
      digest ??= await digestOf(chunks);
      if (!digest || size > MAX_HASHED_BYTES) {
        stop();
        digest?.abort();
        return { incomplete: "over cap", reserved: 0 };
      }
      await digest.write(value);
    }
  } catch {
    stop();
    digest?.abort();
    return { incomplete: "unreadable", reserved: 0 };
  } finally {
    clearTimeout(timer);
  }
  if (digest) return { digest: await digest.finish(), reserved: 0 };
  return { bytes: joined(chunks, size), reserved: 0 };
}

async function readWhole(response: Response, declared: number): Promise<CapturedBody> {
  try {
    const bytes = new Uint8Array(await response.arrayBuffer());
    return bytes.byteLength > declared ? { incomplete: "over cap", reserved: 0 } : { bytes, reserved: 0 };
  } catch {
    return { incomplete: "unreadable", reserved: 0 };
  }
}

/** Reads a shadow's (or the noise twin's) body for comparison, or cancels it when it cannot be compared. */
export async function captureBody(response: Response, cap: number, memory: ComparisonMemory): Promise<CapturedBody> {
  const body = response.body;
  if (body === null) return EMPTY;
  const mode = readMode(response.headers, cap);
  // A body declared over the cap holds no comparison memory: only its digest is kept.
  const size = mode === "hash" ? 0 : reservation(response.headers, cap);
  if (!memory.reserve(size)) {
    body.cancel().catch(() => undefined);
    return { incomplete: "memory", reserved: 0 };
  }
  if (mode === "bytes" && declaredWithinCap(response.headers, cap)) {
    // Declared within the cap and not decoded: the reservation is the declared length.
    const whole = await readWhole(response, size);
    whole.reserved = whole.bytes === undefined ? 0 : size;
    if (whole.bytes === undefined) memory.release(size);
    return whole;
  }
  // Any other body chunk by chunk, up to the cap: Content-Length counts the bytes sent, and the runtime decodes as it reads.
  const captured = await readCapped(body, mode === "hash" ? 0 : cap, 0, mode === "stream");
  captured.reserved = size;
  if (captured.bytes === undefined) {
    memory.release(size);
    captured.reserved = 0;
  }
  return captured;
}

/**
 * Splits main's answer (or a canary's) between the client and the comparison. A small body
 * (../small-answer.ts) is read whole and both get the same bytes; the client's headers wait for
 * it at most `waitMs`. Its comparison waits at most `timeoutMs` from main's headers, as a tee's
 * branch would. Any other body is tee'd (teeForComparison).
 */
export async function splitForComparison(
  response: Response,
  cap: number,
  memory: ComparisonMemory,
  timeoutMs = 0,
  waitMs = WHOLE_ANSWER_WAIT_MS,
): Promise<{ client: Response; body: Promise<CapturedBody> }> {
  const small = declaredWithinCap(response.headers, Math.min(cap, WHOLE_ANSWER_BYTES));
  if (response.body === null || !small || readMode(response.headers, cap) !== "bytes") {
    return teeForComparison(response, cap, memory, timeoutMs);
  }
  const declared = Number(response.headers.get("content-length"));
  const reserved = memory.reserve(declared);
  const { client, bytes } = await readSmallAnswer(response, waitMs, timeoutMs);
  const body = bytes.then((read): CapturedBody => {
    if (!reserved) return { incomplete: "memory", reserved: 0 };
    if (read) return { bytes: read, reserved: declared };
    memory.release(declared);
    return { incomplete: "unreadable", reserved: 0 };
  });
  return { client, body };
}

/**
 * Splits main's answer: the client gets one branch of a tee, untouched and
 * never waited on; the other is read here (see readCapped), so a client that
 * hangs up early still lets main's connection go once it is read.
 */
export function teeForComparison(
  response: Response,
  cap: number,
  memory: ComparisonMemory,
  timeoutMs = 0,
): { client: Response; body: Promise<CapturedBody> } {
  const body = response.body;
  if (body === null) return { client: response, body: Promise.resolve(EMPTY) };
  const mode = readMode(response.headers, cap);
  const size = mode === "hash" ? 0 : reservation(response.headers, cap);
  if (!memory.reserve(size)) return { client: response, body: Promise.resolve({ incomplete: "memory", reserved: 0 }) };
  const [toClient, toCompare] = body.tee();
  const captured = readCapped(toCompare, mode === "hash" ? 0 : cap, timeoutMs, mode === "stream").then((read) => {
    if (read.bytes === undefined) memory.release(size);
    else read.reserved = size;
    return read;
  });
  return { client: new Response(toClient, response), body: captured };
}

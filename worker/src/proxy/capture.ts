import type { CapturedBody } from "../evidence/answers.ts";
import type { ComparisonMemory } from "../evidence/memory.ts";
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

/** Whether the runtime hands over the bytes as sent: it undoes any other Content-Encoding as it reads. */
function decodedAsSent(headers: Headers): boolean {
  const encoding = headers.get("content-encoding")?.trim().toLowerCase();
  return encoding === undefined || encoding === "" || encoding === "identity";
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

/**
 * A body whose length is declared, within the cap, and handed over as sent: HTTP framing holds
 * it to that length, so it is read whole in one call (workerd reads it natively; a chunk loop in
 * JavaScript cost a promise and a copy per chunk on the isolate's thread, the largest share of
 * comparison's CPU in bench/RESULTS.md's profile). Longer than declared is over the cap.
 */
function declaredWithinCap(headers: Headers, cap: number): boolean {
  const declared = Number(headers.get("content-length") ?? Number.NaN);
  return Number.isFinite(declared) && declared >= 0 && declared <= cap && decodedAsSent(headers);
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

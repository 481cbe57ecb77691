import type { CapturedAnswer } from "../evidence/compare.ts";

/**
 * Bytes an isolate holds for comparison right now. Every body read for
 * comparison reserves its size first (its declared length, else the cap) and
 * gives it back once its exchange is compared, so the total stays under the
 * bound however many requests are in flight.
 */
export class ComparisonMemory {
  #used = 0;
  limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  reserve(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}

/** A body as read for comparison: all of it, or why only status and headers can be compared. */
export interface CapturedBody {
  bytes?: Uint8Array;
  /** Why the bytes are missing: an event stream, over the cap, unreadable, or no memory left. */
  incomplete?: "stream" | "over cap" | "unreadable" | "memory";
  /** What this body holds of the isolate's comparison memory until it is released. */
  reserved: number;
}

const EMPTY: CapturedBody = { bytes: new Uint8Array(), reserved: 0 };

/** Why a body cannot be compared, known from its headers before a byte is read. */
function unreadable(headers: Headers, cap: number): CapturedBody["incomplete"] {
  const type = headers.get("content-type");
  if (type?.toLowerCase().includes("text/event-stream")) return "stream";
  const length = headers.get("content-length");
  if (length !== null && Number(length) > cap) return "over cap";
  return undefined;
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

/**
 * Reads at most `cap` bytes; a longer stream is cancelled at the cap, so it
 * never holds its connection. With `timeoutMs`, a body still arriving then is
 * cancelled too (a slow stream must not hold comparison memory for long).
 */
export async function readCapped(body: ReadableStream<Uint8Array>, cap: number, timeoutMs = 0): Promise<CapturedBody> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timedOut = false;
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          reader.cancel().catch(() => undefined);
        }, timeoutMs)
      : undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) return { incomplete: "unreadable", reserved: 0 };
      if (done) break;
      size += value.byteLength;
      if (size > cap) {
        reader.cancel().catch(() => undefined);
        return { incomplete: "over cap", reserved: 0 };
      }
      chunks.push(value);
    }
  } catch {
    reader.cancel().catch(() => undefined);
    return { incomplete: "unreadable", reserved: 0 };
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1 && chunks[0]) return { bytes: chunks[0], reserved: 0 };
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes, reserved: 0 };
}

/** Reads a shadow's (or the noise twin's) body for comparison, or cancels it when it cannot be compared. */
export async function captureBody(response: Response, cap: number, memory: ComparisonMemory): Promise<CapturedBody> {
  const body = response.body;
  if (body === null) return EMPTY;
  const why = unreadable(response.headers, cap);
  const size = reservation(response.headers, cap);
  if (why !== undefined || !memory.reserve(size)) {
    body.cancel().catch(() => undefined);
    return { incomplete: why ?? "memory", reserved: 0 };
  }
  // Chunk by chunk whatever Content-Length says: it counts the bytes sent, and the runtime decodes as it reads.
  const captured = await readCapped(body, cap);
  captured.reserved = size;
  if (captured.bytes === undefined) {
    memory.release(size);
    captured.reserved = 0;
  }
  return captured;
}

/**
 * Splits main's answer: the client gets one branch of a tee, untouched and
 * never waited on; the other is read here up to the cap and then cancelled,
 * so a client that hangs up early still lets main's connection go. Event
 * streams and bodies declared over the cap are not tee'd at all.
 */
export function teeForComparison(
  response: Response,
  cap: number,
  memory: ComparisonMemory,
  timeoutMs = 0,
): { client: Response; body: Promise<CapturedBody> } {
  const body = response.body;
  if (body === null) return { client: response, body: Promise.resolve(EMPTY) };
  const why = unreadable(response.headers, cap);
  if (why !== undefined) return { client: response, body: Promise.resolve({ incomplete: why, reserved: 0 }) };
  const size = reservation(response.headers, cap);
  if (!memory.reserve(size)) return { client: response, body: Promise.resolve({ incomplete: "memory", reserved: 0 }) };
  const [toClient, toCompare] = body.tee();
  const captured = readCapped(toCompare, cap, timeoutMs).then((read) => {
    if (read.bytes === undefined) memory.release(size);
    else read.reserved = size;
    return read;
  });
  return { client: new Response(toClient, response), body: captured };
}

/** The headers comparison looks at: content-type and the policy's, lower-case. */
export function comparedHeaders(headers: Headers, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  const type = headers.get("content-type");
  if (type !== null) picked["content-type"] = type;
  for (const name of names) {
    const value = headers.get(name);
    if (value !== null) picked[name.toLowerCase()] = value;
  }
  return picked;
}

export function capturedAnswer(status: number, headers: Headers, body: CapturedBody, names: readonly string[]) {
  return {
    status,
    headers: comparedHeaders(headers, names),
    body: body.bytes,
    bodyComplete: body.bytes !== undefined,
  } satisfies CapturedAnswer;
}

import type { CaptureSettings } from "../evidence/capture-settings.ts";
import { declaredWithinCap, readSmallAnswer, WHOLE_ANSWER_BYTES } from "../small-answer.ts";
import { captureBatcherFor } from "./batcher.ts";
import type { CaptureLog } from "./log.ts";
import { type CapturedExchange, keptRequestHeaders, redactExchange } from "./record.ts";

type WaitUntil = (promise: Promise<unknown>) => void;

/** A body as kept: its text up to the bound, and whether there was more. */
interface KeptBody {
  text: string;
  truncated: boolean;
}

/**
 * Reads a stream into text up to `limit` bytes, then lets it go. Runs on a tee'd branch in
 * waitUntil, so the other branch (main's, or the client's) never waits on it.
 */
async function readUpTo(stream: ReadableStream<Uint8Array>, limit: number): Promise<KeptBody> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), truncated: false };
    if (bytes + value.byteLength > limit) {
      text += decoder.decode(value.subarray(0, limit - bytes));
      await reader.cancel().catch(() => undefined);
      return { text, truncated: true };
    }
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
  }
}

/** A small answer's bytes as kept; one that broke is not kept (its capture is dropped and counted). */
function keptOf(bytes: Uint8Array | undefined, limit: number): KeptBody {
  if (bytes === undefined) throw new Error("main's answer broke before it was whole");
  return { text: new TextDecoder().decode(bytes.subarray(0, limit)), truncated: bytes.byteLength > limit };
}

function bytesOf(body: BodyInit): Uint8Array | undefined {
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (typeof body === "string") return new TextEncoder().encode(body);
  return undefined;
}

interface CaptureContext {
  env: { CAPTURE_LOG: DurableObjectNamespace<CaptureLog>; CAPTURE_MAX_BYTES_PER_HOUR?: string };
  settings: CaptureSettings;
  name: string;
  /** The version that answered as main. */
  main: string;
  requestId: string;
  method: string;
  /** Path and query after the service's segment. */
  url: string;
  headers: Headers;
  redaction: { key: Uint8Array; paths: readonly string[] };
  waitUntil: WaitUntil;
}

/** Default bytes per name and hour, when CAPTURE_MAX_BYTES_PER_HOUR is unset or not a positive number. */
const DEFAULT_MAX_BYTES_PER_HOUR = 64 * 1024 * 1024;

export const maxBytesPerHour = (text: string | undefined): number => {
  const value = Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_MAX_BYTES_PER_HOUR;
};

/**
 * One captured request on its way through the proxy: main's copy of the body and main's answer pass
 * through it, tee'd, and the exchange is kept in waitUntil once both are read. Nothing here is awaited
 * by the client: a capture that fails is dropped and counted.
 */
export class CaptureTap {
  readonly #context: CaptureContext;
  #body: Promise<KeptBody | null> = Promise.resolve(null);

  constructor(context: CaptureContext) {
    this.#context = context;
  }

  /** Main's copy of the request body; a stream is tee'd, bytes are read as they are. */
  body(body: BodyInit | null): BodyInit | null {
    const limit = this.#context.settings.maxBodyBytes;
    if (body === null) return null;
    if (body instanceof ReadableStream) {
      const [forMain, kept] = body.tee();
      this.#body = readUpTo(kept, limit);
      return forMain;
    }
    const bytes = bytesOf(body);
    if (bytes) {
      const truncated = bytes.byteLength > limit;
      this.#body = Promise.resolve({ text: new TextDecoder().decode(bytes.subarray(0, limit)), truncated });
    }
    return body;
  }

  /**
   * Main's answer to the client, and the capture made from the same bytes: a small body is read
   * whole (../small-answer.ts), any other tee'd and the capture read from the other branch.
   */
  answer(answer: Promise<Response>, started: number): Promise<Response> {
    return answer.then(async (response) => {
      const ms = Date.now() - started;
      if (response.body === null || response.webSocket) {
        this.#context.waitUntil(this.#keep(response, started, ms, Promise.resolve({ text: "", truncated: false })));
        return response;
      }
      if (declaredWithinCap(response.headers, WHOLE_ANSWER_BYTES)) {
        const { client, bytes } = await readSmallAnswer(response);
        const limit = this.#context.settings.maxBodyBytes;
        this.#context.waitUntil(
          this.#keep(
            response,
            started,
            ms,
            bytes.then((read) => keptOf(read, limit)),
          ),
        );
        return client;
      }
      const [client, kept] = response.body.tee();
      this.#context.waitUntil(this.#keep(response, started, ms, readUpTo(kept, this.#context.settings.maxBodyBytes)));
      return new Response(client, response);
    });
  }

  async #keep(response: Response, at: number, ms: number, body: Promise<KeptBody>): Promise<void> {
    const { name, main, requestId, method, url, headers, settings, redaction, waitUntil, env } = this.#context;
    const batcher = captureBatcherFor(env.CAPTURE_LOG);
    try {
      const [request, answer] = await Promise.all([this.#body, body]);
      const exchange: CapturedExchange = {
        at,
        requestId,
        method,
        url,
        headers: keptRequestHeaders(headers),
        body: request?.text ?? null,
        bodyTruncated: request?.truncated ?? false,
        main: {
          version: main,
          status: response.status,
          headers: Object.fromEntries(response.headers),
          body: answer.text,
          truncated: answer.truncated,
          ms,
        },
      };
      const limits = {
        maxBytesPerHour: maxBytesPerHour(env.CAPTURE_MAX_BYTES_PER_HOUR),
        retentionHours: settings.retentionHours,
      };
      batcher.add(name, redactExchange(exchange, redaction), limits, waitUntil);
    } catch {
      batcher.drop(name);
    }
  }
}

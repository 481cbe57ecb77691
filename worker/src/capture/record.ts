import type { CaptureSettings } from "../evidence/capture-settings.ts";
import { redactSample } from "../evidence/redact.ts";

/** Main's answer to a captured request, as kept. */
interface CapturedAnswerRecord {
  version: string;
  status: number;
  headers: Record<string, string>;
  /** The body as text, up to the capture's maxBodyBytes. */
  body: string;
  /** The body was longer than kept (or could not be read whole): it cannot be compared field by field. */
  truncated: boolean;
  /** From sending to main's response headers. */
  ms: number;
}

/** One request to a name and main's answer, redacted like a sample: one line of a capture object. */
export interface CapturedExchange {
  at: number;
  requestId: string;
  method: string;
  /** The path and query after the service's segment (`/items?page=2`). */
  url: string;
  headers: Record<string, string>;
  body: string | null;
  /** The request's body was longer than kept: it is never replayed, since a cut body is another request. */
  bodyTruncated: boolean;
  main: CapturedAnswerRecord;
}

/** Headers the gateway sets on whatever it forwards; a replay sets its own. */
const GATEWAY_HEADERS = /^(via|x-request-id|x-forwarded-.*|x-daeploy-.*|cf-.*|traceparent|tracestate)$/;

export const keptRequestHeaders = (headers: Headers): Record<string, string> =>
  Object.fromEntries([...headers].filter(([name]) => !GATEWAY_HEADERS.test(name)));

/** Whether a request is captured: its method, and its share (the bucket is the request's, 0–9999). */
export function isCaptured(settings: CaptureSettings | null | undefined, method: string, bucket: number): boolean {
  if (!settings || settings.percent <= 0) return false;
  if (settings.methods !== null && !settings.methods.includes(method)) return false;
  return bucket < Math.round(settings.percent * 100);
}

/**
 * The exchange as it may be stored: redacted exactly as samples are (evidence/redact.ts), the request
 * standing where a sample has main's side and main's answer where it has the shadow's. Credentials
 * (Authorization, Cookie, credential-named parameters and fields, JWTs) become `REDACTED:<hmac>`.
 */
export function redactExchange(
  exchange: CapturedExchange,
  redaction: { key: Uint8Array; paths: readonly string[] },
): CapturedExchange {
  const sample = redactSample(
    {
      at: new Date(exchange.at).toISOString(),
      requestId: exchange.requestId,
      method: exchange.method,
      url: exchange.url,
      paths: [],
      main: { status: 0, headers: exchange.headers, body: exchange.body ?? "", truncated: exchange.bodyTruncated },
      shadow: exchange.main,
    },
    redaction,
  );
  return {
    ...exchange,
    url: sample.url,
    headers: sample.main.headers,
    body: exchange.body === null ? null : sample.main.body,
    main: { ...exchange.main, headers: sample.shadow.headers, body: sample.shadow.body },
  };
}

/** A redacted value: never sent on by a replay (the credential it stood for is gone). */
export const isRedacted = (value: string): boolean => value.startsWith("REDACTED:");

import type { ExchangeSample, SampleSide } from "./batch.ts";
import { hmacSha256 } from "./hmac.ts";

/**
 * Stored samples hold production traffic for days, so credentials never reach them: header values of
 * Authorization, Proxy-Authorization, Cookie and Set-Cookie (and of any credential-named header),
 * credential-named query parameters and JSON fields, and what the policy's `redact` list names.
 * Each is replaced by `REDACTED:<8 hex of an HMAC of the value>` under a key of this gateway, so equal
 * values still read as equal in a sample and nobody without the key can test a guess against them.
 */
export interface Redaction {
  /** Derived from the gateway key (see proxy/gateway-key.ts): the same across isolates of one deployment. */
  key: Uint8Array;
  /** The policy's list: `query.<parameter>` and `body.<field path>`, as difference paths write them. */
  paths: readonly string[];
}

const ALWAYS_REDACTED_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);

/** Words that make a name a credential's, wherever they stand in it: `apiKey`, `x-auth-token`, `session_id`. */
const CREDENTIAL_WORDS = new Set([
  "auth",
  "authorization",
  "token",
  "tokens",
  "key",
  "keys",
  "apikey",
  "secret",
  "secrets",
  "password",
  "passwd",
  "pwd",
  "passphrase",
  "session",
  "sessionid",
  "sid",
  "signature",
  "sig",
  "credential",
  "credentials",
  "cookie",
  "jwt",
  "otp",
]);

/** Whether a header, parameter or field name is a credential's: one of its words (split at case and punctuation) is. */
export function isCredentialName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((word) => CREDENTIAL_WORDS.has(word));
}

const encoder = new TextEncoder();

function hex(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text;
}

/** What a stored sample holds instead of a value. */
export const redactedValue = (key: Uint8Array, value: string): string =>
  `REDACTED:${hex(hmacSha256(key, encoder.encode(value))).slice(0, 8)}`;

function redactHeaders(
  headers: Record<string, string>,
  key: Uint8Array,
  queryNames: ReadonlySet<string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const secret = ALWAYS_REDACTED_HEADERS.has(name.toLowerCase()) || isCredentialName(name);
    // A Location or Link header may carry the request's own query back.
    out[name] = secret ? redactedValue(key, value) : redactParams(value, key, queryNames, QUERY_PAIR);
  }
  return out;
}

/** `name=value` pairs: at the start (a form body) or after `?`/`&` (a query), or only after `?`/`&` in other text. */
const FORM_PAIR = /(^|[?&])([^=&#?\s"'<>\\]+)=([^&#\s"'<>\\]*)/g;
const QUERY_PAIR = /([?&])([^=&#?\s"'<>\\]+)=([^&#\s"'<>\\]*)/g;

/**
 * Credential-named and listed parameters' values redacted, wherever `name=value` pairs stand: a URL, a form
 * body, or a URL an origin echoes in its body or a Location header. Values stop at quotes and spaces, so
 * JSON and HTML around them stay well-formed.
 */
function redactParams(text: string, key: Uint8Array, listed: ReadonlySet<string>, pairs = FORM_PAIR): string {
  return text.replace(pairs, (whole, lead: string, rawName: string, rawValue: string) => {
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replaceAll("+", " "));
    } catch {
      // A malformed escape: judge the name as written.
    }
    if (!isCredentialName(name) && !listed.has(name)) return whole;
    return `${lead}${rawName}=${encodeURIComponent(redactedValue(key, rawValue))}`;
  });
}

function redactUrl(url: string, key: Uint8Array, listed: ReadonlySet<string>): string {
  const query = url.indexOf("?");
  if (query < 0) return url;
  return url.slice(0, query) + redactParams(url.slice(query), key, listed);
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Walks a parsed body; `path` is the difference path of `value` (`body`, `body.user.email`, `body.items[]`). */
function redactJson(value: Json, path: string, key: Uint8Array, listed: ReadonlySet<string>): Json {
  if (listed.has(path)) return redactedValue(key, JSON.stringify(value));
  if (Array.isArray(value)) return value.map((item) => redactJson(item, `${path}[]`, key, listed));
  if (value === null || typeof value !== "object") return value;
  const out: { [key: string]: Json } = {};
  for (const [name, inner] of Object.entries(value)) {
    out[name] = isCredentialName(name)
      ? redactedValue(key, typeof inner === "string" ? inner : JSON.stringify(inner))
      : redactJson(inner, `${path}.${name}`, key, listed);
  }
  return out;
}

/** `"name": value` pairs in text that is not whole JSON (a body cut at 8 KiB): credential-named ones go. */
const JSON_PAIR = /("((?:[^"\\]|\\.)*)"\s*:\s*)("(?:[^"\\]|\\.)*"?|-?\d[\d.eE+-]*|true|false|null)/g;

function redactJsonText(text: string, key: Uint8Array, listed: ReadonlySet<string>): string {
  return text.replace(JSON_PAIR, (whole, lead: string, name: string, value: string) => {
    if (!isCredentialName(name) && !listed.has(`body.${name}`)) return whole;
    const plain = value.startsWith('"')
      ? value.slice(1, value.endsWith('"') && value.length > 1 ? -1 : undefined)
      : value;
    return `${lead}"${redactedValue(key, plain)}"`;
  });
}

function parseJson(text: string): { value: Json } | undefined {
  try {
    return { value: JSON.parse(text) as Json };
  } catch {
    return undefined;
  }
}

function redactBody(
  side: SampleSide,
  key: Uint8Array,
  bodyPaths: ReadonlySet<string>,
  queryNames: ReadonlySet<string>,
): string {
  const type = Object.entries(side.headers).find(([name]) => name.toLowerCase() === "content-type")?.[1] ?? "";
  if (type.includes("application/x-www-form-urlencoded")) {
    const fields = new Set([...bodyPaths].map((path) => path.slice("body.".length)));
    return redactParams(side.body, key, fields);
  }
  // First any URL the origin echoes (a link, a redirect target, the request's own URL).
  const text = redactParams(side.body, key, queryNames, QUERY_PAIR);
  const parsed = parseJson(text);
  if (!parsed) return redactJsonText(text, key, bodyPaths);
  const redacted = JSON.stringify(redactJson(parsed.value, "body", key, bodyPaths));
  // Bodies with no credential field keep their own formatting.
  return redacted === JSON.stringify(parsed.value) ? text : redacted;
}

/** A sample as it may be stored. */
export function redactSample(sample: ExchangeSample, { key, paths }: Redaction): ExchangeSample {
  const queryNames = new Set(paths.filter((p) => p.startsWith("query.")).map((p) => p.slice("query.".length)));
  const bodyPaths = new Set(paths.filter((p) => p.startsWith("body")));
  const side = (s: SampleSide): SampleSide => ({
    ...s,
    headers: redactHeaders(s.headers, key, queryNames),
    body: redactBody(s, key, bodyPaths, queryNames),
  });
  return {
    ...sample,
    url: redactUrl(sample.url, key, queryNames),
    main: side(sample.main),
    shadow: side(sample.shadow),
  };
}

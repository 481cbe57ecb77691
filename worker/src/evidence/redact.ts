import type { ExchangeSample, SampleSide } from "./batch.ts";
import { hmacSha256 } from "./hmac.ts";
import { bodyPathSteps, type PathStep, stepsMatch } from "./paths.ts";
import { type JsonRedaction, redactJsonText } from "./redact-json.ts";

/**
 * Stored samples hold production traffic for days, so credentials never reach them: header values of
 * Authorization, Proxy-Authorization, Cookie and Set-Cookie (and of any credential-named header),
 * credential-named query parameters (OAuth's `code` and `state` too, in a query or a fragment) and
 * JSON fields (whole, whatever they hold), anything shaped like a JWT wherever it stands, and what
 * the policy's `redact` list names (`*` standing for any key).
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
  "pass",
  "pin",
  "verifier",
]);

/** Words that are a credential's name only when they are the whole name: `access`, not `accessLevel`. */
const CREDENTIAL_NAMES = new Set(["access", "refresh"]);

/** Query and fragment parameters that carry an OAuth grant, though their names are common words. */
const OAUTH_PARAMETERS = new Set(["code", "state"]);

/** Whether a header, parameter or field name is a credential's: one of its words (split at case and punctuation) is. */
export function isCredentialName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== "");
  if (words.length === 1 && CREDENTIAL_NAMES.has(words[0] ?? "")) return true;
  return words.some((word) => CREDENTIAL_WORDS.has(word));
}

/**
 * A JWT (or JWE) wherever it stands: base64url of `{"` (`eyJ`) and at least two more dot-separated
 * parts. Access and ID tokens turn up in bodies, redirects and headers under any name.
 */
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+){0,2}/g;

const redactJwts = (text: string, key: Uint8Array): string => text.replace(JWT, (jwt) => redactedValue(key, jwt));

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
    // A Location or Link header may carry the request's own query back, or a token in its fragment.
    out[name] = secret ? redactedValue(key, value) : redactJwts(redactParams(value, key, queryNames, QUERY_PAIR), key);
  }
  return out;
}

/**
 * `name=value` pairs: at the start (a form body) or after `?`, `&` or `#` (a query, or a fragment such as
 * `#access_token=…`), or only after `?`, `&` or `#` in other text.
 */
const FORM_PAIR = /(^|[?&#])([^=&#?\s"'<>\\]+)=([^&#\s"'<>\\]*)/g;
const QUERY_PAIR = /([?&#])([^=&#?\s"'<>\\]+)=([^&#\s"'<>\\]*)/g;

/** Whether a parameter's value is a secret: a credential's name, an OAuth grant's, or a listed one (`*`: all). */
const isSecretParameter = (name: string, listed: ReadonlySet<string>): boolean =>
  isCredentialName(name) || OAUTH_PARAMETERS.has(name.toLowerCase()) || listed.has(name) || listed.has("*");

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
    if (!isSecretParameter(name, listed)) return whole;
    return `${lead}${rawName}=${encodeURIComponent(redactedValue(key, rawValue))}`;
  });
}

function redactUrl(url: string, key: Uint8Array, listed: ReadonlySet<string>): string {
  const query = url.search(/[?#]/);
  const redacted = query < 0 ? url : url.slice(0, query) + redactParams(url.slice(query), key, listed);
  return redactJwts(redacted, key);
}

/** `"name": value` pairs in text that is not JSON (a script in a page): credential-named ones go. */
const JSON_PAIR = /("((?:[^"\\]|\\.)*)"\s*:\s*)("(?:[^"\\]|\\.)*"?|-?\d[\d.eE+-]*|true|false|null)/g;

function redactJsonPairs(text: string, key: Uint8Array): string {
  return text.replace(JSON_PAIR, (whole, lead: string, name: string, value: string) => {
    if (!isCredentialName(name)) return whole;
    const plain = value.startsWith('"')
      ? value.slice(1, value.endsWith('"') && value.length > 1 ? -1 : undefined)
      : value;
    return `${lead}"${redactedValue(key, plain)}"`;
  });
}

/** Secret JSON values: credential-named keys' (whatever they hold) and the listed paths'. */
const jsonRedaction = (key: Uint8Array, listed: readonly PathStep[][]): JsonRedaction => ({
  isSecret: (place, name) =>
    (name !== undefined && isCredentialName(name)) || listed.some((steps) => stepsMatch(place, steps)),
  replace: (raw) => redactedValue(key, raw),
});

function redactBody(
  side: SampleSide,
  key: Uint8Array,
  bodyPaths: readonly string[],
  queryNames: ReadonlySet<string>,
): string {
  const type = Object.entries(side.headers).find(([name]) => name.toLowerCase() === "content-type")?.[1] ?? "";
  if (type.includes("application/x-www-form-urlencoded")) {
    const fields = new Set(bodyPaths.map((path) => path.slice("body.".length)));
    return redactJwts(redactParams(side.body, key, fields), key);
  }
  // First any URL the origin echoes (a link, a redirect target, the request's own URL).
  const text = redactParams(side.body, key, queryNames, QUERY_PAIR);
  const listed = bodyPaths.flatMap((path) => {
    const steps = bodyPathSteps(path);
    return steps ? [steps] : [];
  });
  const json = /^\s*[[{]/.test(text) ? redactJsonText(text, jsonRedaction(key, listed)) : undefined;
  return redactJwts(json ?? redactJsonPairs(text, key), key);
}

/** A sample as it may be stored. */
export function redactSample(sample: ExchangeSample, { key, paths }: Redaction): ExchangeSample {
  const queryNames = new Set(paths.filter((p) => p.startsWith("query.")).map((p) => p.slice("query.".length)));
  const bodyPaths = paths.filter((p) => p.startsWith("body."));
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

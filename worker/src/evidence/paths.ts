import { HEADER_NAME_PATTERN } from "../header-names.ts";

/**
 * The field-path grammar of differences, written once for the comparison,
 * the policy's validation and the dashboard (this module uses no bindings).
 *
 * A path is `status`, `header.<lower-case name>`, `body` (the bytes), or
 * `body` followed by segments: `.key`, `[]` (any array index), `["odd key"]`
 * (a JSON string, for keys that are not plain) or `.*` (a key that is an
 * identifier, folded so that a map keyed by ids describes one field, not one
 * per record).
 */

/** Object keys written as `.key`; any other key is written as a JSON string in brackets. */
const PLAIN_KEY = /^[A-Za-z0-9_$-]+$/;
/** The segment every identifier-like key folds to. */
const FOLDED_KEY = "*";

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const LONG_HEX = /^(?=.*\d)[0-9a-f]{16,}$/i;
/** A number set apart by separators inside a key: `u-12-k3`, `user_7`, `order:1009`. */
const SEPARATED_NUMBER = /(^|[-_:.])\d+([-_:.]|$)/;
const DIGIT_RUNS = /\d+/g;

/**
 * Whether a key names a record rather than a field: numbers (and dates),
 * UUIDs, long hex, and keys mixing letters and digits that look generated.
 * Short names with one number in them (`p99`, `v2`, `sha256`) stay fields.
 */
export function isIdentifierKey(key: string): boolean {
  if (key.length === 0) return false;
  const hasLetter = /[A-Za-z]/.test(key);
  const hasDigit = /\d/.test(key);
  if (!hasDigit) return false;
  if (!hasLetter) return /^[\d\s._:/+-]+$/.test(key);
  if (UUID.test(key) || LONG_HEX.test(key)) return true;
  if (!/^[A-Za-z0-9_:.-]+$/.test(key)) return false;
  if (SEPARATED_NUMBER.test(key)) return true;
  const runs = key.match(DIGIT_RUNS) ?? [];
  const digits = runs.reduce((sum, run) => sum + run.length, 0);
  return (runs.length >= 2 && digits >= 2) || digits >= 4;
}

/**
 * What a difference path (and a route) may take, in UTF-8 bytes: no more than the policy's ignore list
 * takes, so that every path the comparison writes can be ignored. Keys and paths arrive from the
 * wire, and signatures, ledger rows and reports hold them.
 */
export const PATH_MAX_BYTES = 256;
/** A key's segment longer than this folds to `*`: a key that long is data (a URL, a blob), not a name. */
const SEGMENT_MAX_BYTES = 96;

/** UTF-8 bytes of `text`, counted without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

const longerThan = (text: string, maxBytes: number): boolean =>
  text.length > maxBytes || (text.length * 3 > maxBytes && utf8Length(text) > maxBytes);

/** `.price`, `.*` for an identifier or an over-long key, or `["a.b"]` for a key that would otherwise read as two segments. */
export function segmentOf(key: string): string {
  if (isIdentifierKey(key)) return `.${FOLDED_KEY}`;
  const segment = PLAIN_KEY.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  return longerThan(segment, SEGMENT_MAX_BYTES) ? `.${FOLDED_KEY}` : segment;
}

/**
 * A difference path within `maxBytes`: a longer body path is cut back to its longest prefix of whole
 * segments that fits, so the difference reads as its ancestor's, as one past the depth limit does.
 */
export function boundedPath(path: string, maxBytes = PATH_MAX_BYTES): string {
  if (!longerThan(path, maxBytes)) return path;
  const segments = bodyPathSegments(path);
  if (!segments) return cutToBytes(path, maxBytes);
  let kept = "body";
  for (const segment of segments) {
    if (longerThan(kept + segment, maxBytes)) break;
    kept += segment;
  }
  return kept;
}

/** What marks text cut at a byte cap. */
const CUT_MARKER = "…";

/** `text` within `maxBytes`: longer text is cut and ends in `…`, so that it cannot pass for the whole. */
export function boundedText(text: string, maxBytes: number): string {
  if (!longerThan(text, maxBytes)) return text;
  return cutToBytes(text, maxBytes - utf8Length(CUT_MARKER)) + CUT_MARKER;
}

/** The longest start of `text` within `maxBytes`, never splitting a character. */
function cutToBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  while (end < text.length) {
    const pair = /[\ud800-\udbff]/.test(text[end] ?? "") ? 2 : 1;
    const size = utf8Length(text.slice(end, end + pair));
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += pair;
  }
  return text.slice(0, end);
}

export { HEADER_NAME_PATTERN } from "../header-names.ts";

const PLAIN_SEGMENT = /^\.(?:[A-Za-z0-9_$-]+|\*)/;

/** Whether `path` is one the comparison can write. */
export function isDifferencePath(path: string): boolean {
  if (path === "status") return true;
  if (path.startsWith("header.")) return HEADER_NAME_PATTERN.test(path.slice("header.".length));
  return bodyPathSegments(path) !== undefined;
}

/** The segments of a body path after `body` (`.key`, `.*`, `[]`, `["odd key"]`), or undefined when it is not one. */
export function bodyPathSegments(path: string): string[] | undefined {
  if (!path.startsWith("body")) return undefined;
  const segments: string[] = [];
  let at = "body".length;
  while (at < path.length) {
    const rest = path.slice(at);
    const plain = PLAIN_SEGMENT.exec(rest);
    let end: number | undefined;
    if (plain) end = at + plain[0].length;
    else if (rest.startsWith("[]")) end = at + 2;
    else if (rest.startsWith('["')) end = quotedKeyEnd(path, at + 1);
    if (end === undefined) return undefined;
    segments.push(path.slice(at, end));
    at = end;
  }
  return segments;
}

/** Where `["…"]` starting at the quote `from` ends (after its `]`), when it holds one valid JSON string. */
function quotedKeyEnd(path: string, from: number): number | undefined {
  let at = from + 1;
  while (at < path.length && path[at] !== '"') at += path[at] === "\\" ? 2 : 1;
  if (path[at + 1] !== "]") return undefined;
  try {
    JSON.parse(path.slice(from, at + 1));
  } catch {
    return undefined;
  }
  return at + 2;
}

/** Whether `path` is `prefix` itself or lies under it: `body.meta` covers `body.meta.time` and `body.meta[]`, not `body.metadata`. */
export function isWithin(path: string, prefix: string): boolean {
  if (path === prefix) return true;
  if (!path.startsWith(prefix)) return false;
  const next = path[prefix.length];
  return next === "." || next === "[";
}

/** One step of a body path: an object key, any key (`.*`), or any array index (`[]`). */
export type PathStep = { key: string } | "*" | "[]";

/**
 * The steps of `body…` after `body`, or undefined when `path` is not a body path. `.*` is any key, as
 * the comparison folds identifier keys to it, so a listed `body.users.*.email` covers every user.
 */
export function bodyPathSteps(path: string): PathStep[] | undefined {
  return bodyPathSegments(path)?.map((segment): PathStep => {
    if (segment === "[]") return "[]";
    if (segment === `.${FOLDED_KEY}`) return FOLDED_KEY;
    if (segment.startsWith(".")) return { key: segment.slice(1) };
    return { key: JSON.parse(segment.slice(1, -1)) as string };
  });
}

/** Whether the steps of a value's place match a listed path's: `*` stands for any key. */
export function stepsMatch(place: readonly PathStep[], listed: readonly PathStep[]): boolean {
  if (place.length !== listed.length) return false;
  return listed.every((step, i) => {
    const at = place[i];
    if (step === "[]" || at === "[]") return step === at;
    if (step === FOLDED_KEY) return at !== undefined;
    return typeof at === "object" && at.key === step.key;
  });
}

/**
 * A request's route, as noise is kept per route: the method and the URL path
 * with identifier-like segments (and over-long ones) folded to `*`, as keys
 * are in field paths (`GET /orders/8812/items` folds 8812 to `*`).
 * The query is left out. Bounded like a path.
 */
export function routeOf(method: string, path: string): string {
  const bare = path.split(/[?#]/, 1)[0] ?? "";
  const folded = bare.split("/").map((segment) => {
    if (segment === "") return segment;
    let key = segment;
    try {
      key = decodeURIComponent(segment);
    } catch {
      // A malformed escape is kept as it came.
    }
    return isIdentifierKey(key) || longerThan(segment, SEGMENT_MAX_BYTES) ? FOLDED_KEY : segment;
  });
  return boundedText(`${method.toUpperCase()} ${folded.join("/") || "/"}`, PATH_MAX_BYTES);
}

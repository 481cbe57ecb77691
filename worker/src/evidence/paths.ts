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
export const FOLDED_KEY = "*";

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

/** `.price`, `.*` for an identifier, or `["a.b"]` for a key that would otherwise read as two segments. */
export function segmentOf(key: string): string {
  if (isIdentifierKey(key)) return `.${FOLDED_KEY}`;
  return PLAIN_KEY.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** A lower-case header name; header names are case-insensitive, and the gateway compares them lower-cased. */
export const HEADER_NAME_PATTERN = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const PLAIN_SEGMENT = /^\.(?:[A-Za-z0-9_$-]+|\*)/;

/** Whether `path` is one the comparison can write. */
export function isDifferencePath(path: string): boolean {
  if (path === "status") return true;
  if (path.startsWith("header.")) return HEADER_NAME_PATTERN.test(path.slice("header.".length));
  if (!path.startsWith("body")) return false;
  let at = "body".length;
  while (at < path.length) {
    const rest = path.slice(at);
    const plain = PLAIN_SEGMENT.exec(rest);
    if (plain) at += plain[0].length;
    else if (rest.startsWith("[]")) at += 2;
    else if (rest.startsWith('["')) {
      const end = quotedKeyEnd(path, at + 1);
      if (end === undefined) return false;
      at = end;
    } else return false;
  }
  return true;
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
  if (!path.startsWith("body") || !isDifferencePath(path)) return undefined;
  const steps: PathStep[] = [];
  let at = "body".length;
  while (at < path.length) {
    const rest = path.slice(at);
    const plain = PLAIN_SEGMENT.exec(rest);
    if (plain) {
      const key = plain[0].slice(1);
      steps.push(key === FOLDED_KEY ? FOLDED_KEY : { key });
      at += plain[0].length;
    } else if (rest.startsWith("[]")) {
      steps.push("[]");
      at += 2;
    } else {
      const end = quotedKeyEnd(path, at + 1) ?? path.length;
      steps.push({ key: JSON.parse(path.slice(at + 1, end - 1)) as string });
      at = end;
    }
  }
  return steps;
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

/**
 * The formats a `format` rule can ask of a value on both sides: a named one,
 * or the operator's own pattern. A pattern runs on the isolate's thread
 * against values from the wire, so it is bounded before it is accepted: a
 * short pattern with no repeated group that itself repeats or alternates (the
 * shape of catastrophic backtracking, `(a+)+`, `(a|aa)*`) and no
 * backreference, tried only on values of bounded length.
 */

export const NAMED_FORMATS = ["uuid", "date-time", "email", "uri"] as const;
type NamedFormat = (typeof NAMED_FORMATS)[number];

/** The longest pattern a rule may carry. */
const PATTERN_MAX_LENGTH = 200;
/** Longer values never match a format: a format describes ids, dates and addresses, not documents. */
const FORMAT_INPUT_MAX_LENGTH = 256;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 3339 date-time. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;
/** An absolute URI: a scheme (RFC 3986 §3.1), a colon, and no white space. */
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

const NAMED: Record<NamedFormat, (value: string) => boolean> = {
  uuid: (value) => UUID.test(value),
  "date-time": (value) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value.replace(" ", "T"))),
  email: (value) => EMAIL.test(value),
  uri: (value) => URI.test(value),
};

const isNamed = (format: string): format is NamedFormat => (NAMED_FORMATS as readonly string[]).includes(format);

/** Why a pattern is refused, or undefined when it may be used. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return "must not be empty";
  if (pattern.length > PATTERN_MAX_LENGTH) return `must be at most ${PATTERN_MAX_LENGTH} characters`;
  try {
    new RegExp(pattern);
  } catch {
    return "must be uuid, date-time, email, uri or a valid regular expression";
  }
  if (/\\[1-9]|\\k</.test(pattern)) return "must not use backreferences";
  if (repeatsAmbiguousGroup(pattern)) {
    return "must not repeat a group that itself repeats or alternates, such as (a+)+ or (a|b)*: it can take exponential time";
  }
  return undefined;
}

/** Whether a group holding a quantifier or `|` is followed by `*`, `+` or `{`. */
function repeatsAmbiguousGroup(pattern: string): boolean {
  const open: boolean[] = [];
  let inClass = false;
  for (let at = 0; at < pattern.length; at++) {
    const char = pattern[at];
    if (char === "\\") {
      at++;
      continue;
    }
    if (inClass) {
      if (char === "]") inClass = false;
      continue;
    }
    if (char === "[") inClass = true;
    else if (char === "(") open.push(false);
    else if (char === ")") {
      const ambiguous = open.pop() ?? false;
      const next = pattern[at + 1];
      if (ambiguous && (next === "*" || next === "+" || (next === "{" && !EXACT_COUNT.test(pattern.slice(at + 1))))) {
        return true;
      }
      if (ambiguous && open.length > 0) open[open.length - 1] = true;
    } else if (isVariable(pattern, at)) {
      if (open.length > 0) open[open.length - 1] = true;
    }
  }
  return false;
}

const EXACT_COUNT = /^\{\d+\}/;

/** Whether the character at `at` lets a group match in more than one way: a quantifier other than `{n}`, or `|`. */
function isVariable(pattern: string, at: number): boolean {
  const char = pattern[at];
  if (char === "|" || char === "*" || char === "+") return true;
  if (char === "{") return !EXACT_COUNT.test(pattern.slice(at));
  return char === "?" && pattern[at - 1] !== "(";
}

/** A test for one format; the pattern must have passed `patternProblem`. */
export function formatTester(format: string): (value: string) => boolean {
  const pattern = isNamed(format) ? undefined : new RegExp(format);
  const test = pattern ? (value: string) => pattern.test(value) : NAMED[format as NamedFormat];
  return (value) => value.length <= FORMAT_INPUT_MAX_LENGTH && test(value);
}

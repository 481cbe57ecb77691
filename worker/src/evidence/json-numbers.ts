/**
 * JSON numbers compared by what they say, not by the double they round to:
 * `9007199254740993` and `9007199254740992` are one double but two ids.
 *
 * A number of at most 15 significant digits and a modest exponent survives
 * the round trip through a double (IEEE 754 keeps 15 decimal digits), so two
 * such numbers are equal as doubles exactly when their normalised texts are.
 * So does any literal that is the shortest spelling of its double. Only a
 * literal that says more than its double needs its source text; finding one
 * costs a regular expression over the text, and the slow parse, with a
 * reviver that reads each number's source (V8's JSON.parse source text
 * access, in workerd and Node 22), runs only for documents that hold one.
 */

/** A JSON number whose double would lose what its source text says; `text` is normalised. */
export class ExactNumber {
  readonly text: string;
  readonly value: number;

  constructor(text: string, value: number) {
    this.text = text;
    this.value = value;
  }
}

/**
 * Sixteen or more digits in a row (a dot may sit among them), or a three-digit exponent. Both start
 * at a digit (a JSON exponent follows one), which lets the scan skip from digit to digit: checking
 * every `e` of the text's words for an exponent made this test cost three times as much.
 */
const RISKY = /\d(?:[\d.]{15}|[eE][+-]?\d{3})/;
/** A risky number where a value can start: after `:`, `,` or `[` (inside a string it is a harmless false alarm). */
const RISKY_VALUE = /[:,[]\s*(-?(?:\d[\d.]{15,}(?:[eE][+-]?\d+)?|[\d.]+[eE][+-]?\d{3,}))/g;

/**
 * Whether some number literal says more than its double: one that is not the
 * shortest spelling of the double it parses to. Floats written by a program
 * (`0.30000000000000004`) are their doubles' shortest spelling, so they need
 * no source text; `9007199254740993` and `0.10000000000000000555` do.
 */
function losesDigits(text: string): boolean {
  if (!RISKY.test(text)) return false;
  RISKY_VALUE.lastIndex = 0;
  for (let match = RISKY_VALUE.exec(text); match; match = RISKY_VALUE.exec(text)) {
    const literal = match[1] as string;
    const shortest = String(Number(literal));
    if (shortest !== literal && normaliseNumber(shortest) !== normaliseNumber(literal)) return true;
  }
  return false;
}

interface ReviverContext {
  source?: string;
}

function keepSource(_key: string, value: unknown, context?: ReviverContext): unknown {
  const source = context?.source;
  if (typeof value !== "number" || source === undefined || !RISKY.test(source)) return value;
  if (normaliseNumber(String(value)) === normaliseNumber(source)) return value;
  return new ExactNumber(normaliseNumber(source), value);
}

/** JSON.parse, except that numbers a double cannot hold exactly come back as ExactNumber. Throws on bad JSON. */
export function parseJsonExact(text: string): unknown {
  if (!losesDigits(text)) return JSON.parse(text);
  return JSON.parse(text, keepSource as (key: string, value: unknown) => unknown);
}

/**
 * One spelling per number: `1.0`, `1`, `1e0` and `10e-1` are all `1e0`;
 * `-0` is `0e0`, the same as `0` (JSON has no other use for the sign of zero).
 */
export function normaliseNumber(source: string): string {
  let at = 0;
  const negative = source[0] === "-";
  if (negative) at++;
  let digits = "";
  let exponent = 0;
  for (; at < source.length; at++) {
    const char = source[at];
    if (char === ".") continue;
    if (char === "e" || char === "E") break;
    digits += char;
  }
  const dot = source.indexOf(".");
  const end = at;
  if (dot !== -1 && dot < end) exponent -= end - dot - 1;
  if (at < source.length) exponent += Number(source.slice(at + 1));
  let first = 0;
  while (first < digits.length - 1 && digits[first] === "0") first++;
  let last = digits.length;
  while (last > first + 1 && digits[last - 1] === "0") {
    last--;
    exponent++;
  }
  const significand = digits.slice(first, last);
  if (significand === "0") return "0e0";
  return `${negative ? "-" : ""}${significand}e${exponent}`;
}

export const isJsonNumber = (value: unknown): value is number | ExactNumber =>
  typeof value === "number" || value instanceof ExactNumber;

/** The value as a double, for tolerances: exactness matters for equality, not for a relative error of 1e-6. */
export const numberValue = (value: number | ExactNumber): number => (typeof value === "number" ? value : value.value);

const textOf = (value: number | ExactNumber): string =>
  typeof value === "number" ? normaliseNumber(String(value)) : value.text;

/** Equality by normalised source text; two plain doubles are already exact, so `===` decides them. */
export function sameNumber(a: number | ExactNumber, b: number | ExactNumber): boolean {
  if (typeof a === "number" && typeof b === "number") return a === b;
  return textOf(a) === textOf(b);
}

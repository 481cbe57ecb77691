import type { PathStep } from "./paths.ts";

/**
 * Redaction of JSON text, whole or cut at the sample size: one pass that keeps the text's own
 * formatting and knows each value's place. A secret value is replaced whole, whatever it holds, so
 * an object or array under a credential-named key goes even when the cut leaves it unclosed. Nesting
 * is kept on a list, not the call stack: 8 KiB of `[` must not overflow it.
 */

/** What decides a value's fate: its place, and the key it stands under (none in an array). */
export interface JsonRedaction {
  isSecret(place: readonly PathStep[], key: string | undefined): boolean;
  /** What a secret value becomes, given its text (a string's contents, or the raw text of anything else). */
  replace(raw: string): string;
}

interface Frame {
  kind: "object" | "array";
  place: PathStep[];
  /** The key whose value comes next (objects). */
  key?: string;
}

type Expect = "value" | "key" | "colon" | "next";

const WHITESPACE = /[ \t\r\n]/;
const LITERAL_END = /[\s,\]}]/;

/** Where the string token starting at the quote `from` ends (after its closing quote), or the text's end. */
function stringEnd(text: string, from: number): number {
  let at = from + 1;
  while (at < text.length && text[at] !== '"') at += text[at] === "\\" ? 2 : 1;
  return Math.min(at + 1, text.length);
}

/** Where the value starting at `from` ends: a string, a literal, or a container up to its close (or the text's end). */
function valueEnd(text: string, from: number): number {
  const first = text[from];
  if (first === '"') return stringEnd(text, from);
  if (first !== "{" && first !== "[") {
    let at = from;
    while (at < text.length && !LITERAL_END.test(text[at] ?? "")) at++;
    return at;
  }
  let depth = 0;
  let at = from;
  while (at < text.length) {
    const ch = text[at];
    if (ch === '"') {
      at = stringEnd(text, at);
      continue;
    }
    if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") depth--;
    at++;
    if (depth === 0) return at;
  }
  return at;
}

/** A string token's contents (decoded when whole), or the raw text of any other value. */
function plainOf(raw: string): string {
  if (!raw.startsWith('"')) return raw;
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.slice(1, raw.endsWith('"') && raw.length > 1 ? -1 : undefined);
  }
}

/** Where a pass through the text stands: what it wrote, where it reads, what it expects next. */
class Scan {
  out = "";
  at = 0;
  expect: Expect = "value";
  readonly stack: Frame[] = [];

  constructor(
    readonly text: string,
    readonly redaction: JsonRedaction,
  ) {}

  /** Copies the text up to `end` as it is. */
  copy(end: number): void {
    this.out += this.text.slice(this.at, end);
    this.at = end;
  }

  /** Leaves the innermost container, which `close` ends. */
  close(): void {
    this.stack.pop();
    this.copy(this.at + 1);
    this.expect = "next";
  }
}

/** A value starts (or an array ends): replaced whole when secret, entered when a container, else copied. */
function onValue(scan: Scan, ch: string): boolean {
  const top = scan.stack.at(-1);
  if (ch === "]" && top?.kind === "array") {
    scan.close();
    return true;
  }
  const key = top?.kind === "object" ? top.key : undefined;
  const place: PathStep[] = top ? [...top.place, top.kind === "array" ? "[]" : { key: key ?? "" }] : [];
  if (scan.redaction.isSecret(place, key)) {
    const end = valueEnd(scan.text, scan.at);
    scan.out += JSON.stringify(scan.redaction.replace(plainOf(scan.text.slice(scan.at, end))));
    scan.at = end;
    scan.expect = "next";
  } else if (ch === "{" || ch === "[") {
    scan.stack.push({ kind: ch === "{" ? "object" : "array", place });
    scan.copy(scan.at + 1);
    scan.expect = ch === "{" ? "key" : "value";
  } else if (ch === '"' || /[-0-9tfn]/.test(ch)) {
    scan.copy(valueEnd(scan.text, scan.at));
    scan.expect = "next";
  } else return false;
  return true;
}

/** A key starts (or an object ends). */
function onKey(scan: Scan, ch: string): boolean {
  const top = scan.stack.at(-1);
  if (!top) return false;
  if (ch === "}") {
    scan.close();
    return true;
  }
  if (ch !== '"') return false;
  const end = stringEnd(scan.text, scan.at);
  top.key = plainOf(scan.text.slice(scan.at, end));
  scan.copy(end);
  scan.expect = "colon";
  return true;
}

/** After a value: a comma, or the end of its container. */
function onNext(scan: Scan, ch: string): boolean {
  const top = scan.stack.at(-1);
  if (ch === "," && top) {
    scan.copy(scan.at + 1);
    scan.expect = top.kind === "object" ? "key" : "value";
    return true;
  }
  if ((ch === "}" && top?.kind === "object") || (ch === "]" && top?.kind === "array")) {
    scan.close();
    return true;
  }
  return false;
}

/** The JSON text with secret values replaced, or undefined when it is not JSON (before it ends). */
export function redactJsonText(text: string, redaction: JsonRedaction): string | undefined {
  const scan = new Scan(text, redaction);
  while (scan.at < text.length) {
    const ch = text[scan.at] ?? "";
    if (WHITESPACE.test(ch)) {
      scan.copy(scan.at + 1);
      continue;
    }
    let understood: boolean;
    if (scan.expect === "value") understood = onValue(scan, ch);
    else if (scan.expect === "key") understood = onKey(scan, ch);
    else if (scan.expect === "colon") {
      understood = ch === ":";
      if (understood) {
        scan.copy(scan.at + 1);
        scan.expect = "value";
      }
    } else understood = onNext(scan, ch);
    if (!understood) return undefined;
  }
  return scan.out;
}

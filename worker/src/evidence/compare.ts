/**
 * Compares main's answer with a shadow's answer to the same request.
 *
 * Paths: `status`, `header.<lower-case name>`, `body` (bytes) or
 * `body.<json path>` with array indices written `[]`. Kinds say what the
 * shadow did relative to main: `value` (same type, other value), `type`
 * (other JSON type), `missing` (main has it, the shadow does not), `extra`
 * (the shadow has it, main does not), `length` (an array's length differs).
 *
 * Arrays: a length difference is one `length` at the array's path; the
 * elements both sides have are compared index by index under `[]`, and the
 * surplus elements are not reported one by one (the `length` says it).
 * A (path, kind) pair is reported at most once per exchange.
 *
 * Object keys that are identifiers fold to `*` (see paths.ts). A comparison
 * cut short, at 64 differences or at the depth limit, adds one `body`
 * difference of kind `many`: what it did not see may differ too.
 */

import { type FieldRule, ruleRoot } from "./field-rules.ts";
import { type IgnoreList, ignoreList, ignores, NO_IGNORE } from "./ignore.ts";
import { parseJsonExact } from "./json-numbers.ts";
import { JsonWalker } from "./json-walk.ts";
import { comparableLocation, cookieNames } from "./redirects.ts";
import { STREAM_MEDIA_TYPES, type StreamEvent, streamDocument } from "./streams.ts";

/** `bytes`: two bodies past the cap whose digests differ (no field detail is known). */
export type DiffKind = "value" | "type" | "missing" | "extra" | "length" | "many" | "bytes";

/** What a comparison cut at its limits records, besides what it saw. */
export const CUT_SHORT: Difference = { path: "body", kind: "many" };

export interface Difference {
  path: string;
  kind: DiffKind;
}

/** One side's answer as the proxy captured it. */
export interface CapturedAnswer {
  status: number;
  /** Lower-case header names to values; only the headers that matter need be here. */
  headers: Record<string, string>;
  body?: Uint8Array | string;
  /** False when the body could not be read whole (or only into `digest`): then it is not compared field by field. */
  bodyComplete: boolean;
  contentType?: string;
  /** The SHA-256 of a body past the cap: compared for equality only. */
  digest?: string;
  /** An event stream read only up to the cap: its complete events are compared, not how many there were. */
  cut?: boolean;
}

export interface CompareOptions {
  /** Extra headers to compare (the policy's), any case. */
  headers?: readonly string[];
  /** Deeper JSON subtrees are compared as a whole and reported at the depth limit. */
  maxDepth?: number;
  /** At most this many distinct differences per exchange; past it the comparison stops and records `body many`. */
  maxPaths?: number;
  /** The policy's field rules: how the values at their paths compare. */
  rules?: readonly FieldRule[];
  /** The policy's ignore list: ignored paths are left out before the limits are reached (see ignore.ts). */
  ignore?: readonly string[];
}

export interface Comparison {
  differences: Difference[];
  /** `notCompared` when either body was incomplete, so only status and headers were compared. */
  body: "compared" | "notCompared";
  /** The comparison stopped at a limit (differences or depth); `differences` then ends with `body many`. */
  capped: boolean;
}

const NOT_JSON: unique symbol = Symbol("not json");

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * An answer prepared once, so main's body is parsed at most once however many
 * shadows it is compared with, and not at all when every shadow's bytes equal it.
 */
export class PreparedAnswer {
  readonly answer: CapturedAnswer;
  readonly mediaType: string | undefined;
  /** Undefined when the body is incomplete. */
  readonly bytes: Uint8Array | undefined;
  #json: unknown;
  #parsed = false;

  constructor(answer: CapturedAnswer) {
    this.answer = answer;
    const contentType = answer.contentType ?? answer.headers["content-type"];
    this.mediaType = contentType === undefined ? undefined : mediaTypeOf(contentType);
    if (answer.bodyComplete) {
      this.bytes = typeof answer.body === "string" ? encoder.encode(answer.body) : (answer.body ?? new Uint8Array());
    }
  }

  get json(): unknown {
    if (!this.#parsed) {
      this.#json = this.bytes === undefined ? NOT_JSON : this.#parse(this.bytes);
      this.#parsed = true;
    }
    return this.#json;
  }

  #parse(bytes: Uint8Array): unknown {
    if (this.mediaType === undefined || !STREAM_MEDIA_TYPES.has(this.mediaType)) {
      return parseJsonDocument(this.answer.body, bytes);
    }
    const text = typeof this.answer.body === "string" ? this.answer.body : decoder.decode(bytes);
    return streamDocument(this.mediaType, text, this.answer.cut === true);
  }
}

export function prepareAnswer(answer: CapturedAnswer): PreparedAnswer {
  return new PreparedAnswer(answer);
}

/** Media type only: `application/json; charset=utf-8` and `Application/JSON` are the same. */
export function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(";");
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * Only bodies that start with `{` or `[` are tried as JSON: a scalar JSON
 * body compares the same as its bytes, and binaries are not decoded at all.
 */
function parseJsonDocument(body: Uint8Array | string | undefined, bytes: Uint8Array): unknown {
  let first = 0;
  while (first < bytes.length && isJsonSpace(bytes[first])) first++;
  const opener = bytes[first];
  if (opener !== 0x7b && opener !== 0x5b) return NOT_JSON;
  try {
    return parseJsonExact(typeof body === "string" ? body : decoder.decode(bytes));
  } catch {
    return NOT_JSON;
  }
}

function isJsonSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

export function compareAnswers(
  main: CapturedAnswer | PreparedAnswer,
  shadow: CapturedAnswer | PreparedAnswer,
  options: CompareOptions = {},
): Comparison {
  const left = main instanceof PreparedAnswer ? main : new PreparedAnswer(main);
  const right = shadow instanceof PreparedAnswer ? shadow : new PreparedAnswer(shadow);
  const collector = new Collector(options.maxPaths ?? 64, ignoreList(options.ignore));

  if (left.answer.status !== right.answer.status) collector.add("status", "value");
  compareHeader(collector, "content-type", left.mediaType, right.mediaType);
  const named = new Set((options.headers ?? []).map((name) => name.toLowerCase()));
  for (const lower of named) {
    if (lower === "content-type") continue;
    compareHeader(collector, lower, left.answer.headers[lower], right.answer.headers[lower]);
  }
  // Where a redirect points and which cookies are set, unless the policy compares those headers whole.
  if (!named.has("location")) compareDerived(collector, "location", left, right, comparableLocation);
  if (!named.has("set-cookie")) compareDerived(collector, "set-cookie", left, right, cookieNames);

  if (!compareBodies(collector, left, right, options)) {
    return { differences: collector.differences, body: "notCompared", capped: collector.capped };
  }
  const cutShort = collector.capped || collector.cut;
  if (cutShort && !ignores(collector.ignore, CUT_SHORT.path)) collector.differences.push(CUT_SHORT);
  return { differences: collector.differences, body: "compared", capped: cutShort };
}

/**
 * Compares the bodies, when both can be: whole bytes (structurally when both are JSON or streams),
 * or the digests of bodies past the cap. False when either could not be read.
 */
function compareBodies(collector: Collector, left: PreparedAnswer, right: PreparedAnswer, options: CompareOptions) {
  if (left.bytes === undefined || right.bytes === undefined) {
    const mainDigest = left.answer.digest;
    const shadowDigest = right.answer.digest;
    const readable = (side: PreparedAnswer, digest: string | undefined) =>
      side.bytes !== undefined || digest !== undefined;
    if (
      (mainDigest === undefined && shadowDigest === undefined) ||
      !readable(left, mainDigest) ||
      !readable(right, shadowDigest)
    ) {
      return false;
    }
    // Past the cap on one side only, the bodies differ in length; on both, the digests tell.
    if (mainDigest === undefined || mainDigest !== shadowDigest) collector.add("body", "bytes");
    return true;
  }
  // Equal bytes are equal documents: the common case costs no parsing.
  if (sameBytes(left.bytes, right.bytes)) return true;
  let mainJson = left.json;
  let shadowJson = mainJson === NOT_JSON ? NOT_JSON : right.json;
  if (mainJson === NOT_JSON || shadowJson === NOT_JSON) {
    collector.add("body", "value");
    return true;
  }
  if (left.answer.cut || right.answer.cut) [mainJson, shadowJson] = sameLength(mainJson, shadowJson);
  const walker = new JsonWalker(collector, options.maxDepth ?? 32);
  walker.compare(mainJson, shadowJson, 0, ruleRoot(options.rules), collector.ignore.root);
  return true;
}

/** Streams read only up to the cap are compared over the events both have. */
function sameLength(main: unknown, shadow: unknown): [unknown, unknown] {
  const a = (main as { events?: StreamEvent[] }).events;
  const b = (shadow as { events?: StreamEvent[] }).events;
  if (!a || !b) return [main, shadow];
  const length = Math.min(a.length, b.length);
  return [{ events: a.slice(0, length) }, { events: b.slice(0, length) }];
}

function compareDerived(
  collector: Collector,
  name: string,
  left: PreparedAnswer,
  right: PreparedAnswer,
  derive: (value: string) => string,
) {
  const main = left.answer.headers[name];
  const shadow = right.answer.headers[name];
  if (main === shadow) return;
  compareHeader(
    collector,
    name,
    main === undefined ? main : derive(main),
    shadow === undefined ? shadow : derive(shadow),
  );
}

function compareHeader(collector: Collector, name: string, main: string | undefined, shadow: string | undefined) {
  if (main === shadow) return;
  const path = `header.${name}`;
  if (shadow === undefined) collector.add(path, "missing");
  else if (main === undefined) collector.add(path, "extra");
  else collector.add(path, "value");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  // Four bytes at a time where both views are aligned (they are, unless sliced): the common case is equal bodies.
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const words = a.length >>> 2;
    const x = new Uint32Array(a.buffer, a.byteOffset, words);
    const y = new Uint32Array(b.buffer, b.byteOffset, words);
    for (; i < words; i++) if (x[i] !== y[i]) return false;
    i = words * 4;
  }
  for (; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Collector {
  readonly differences: Difference[] = [];
  readonly #seen = new Set<string>();
  /** Stopped at the most differences: nothing more is looked at. */
  capped = false;
  /** A subtree was compared only as a whole, at the depth limit. */
  cut = false;

  readonly maxPaths: number;
  readonly ignore: IgnoreList;

  constructor(maxPaths: number, ignore: IgnoreList = NO_IGNORE) {
    this.maxPaths = maxPaths;
    this.ignore = ignore;
  }

  get full(): boolean {
    return this.differences.length >= this.maxPaths;
  }

  /** A subtree past the depth limit differs somewhere: its path differs, and the comparison was cut short. */
  cutAt(path: string): void {
    this.add(path, "value");
    this.cut = true;
  }

  /** Records a difference; an ignored path is left out, so it never counts toward the limit. */
  add(path: string, kind: DiffKind): void {
    const key = `${path} ${kind}`;
    if (this.#seen.has(key)) return;
    if (ignores(this.ignore, path)) return;
    if (this.full) {
      this.capped = true;
      return;
    }
    this.#seen.add(key);
    this.differences.push({ path, kind });
  }
}

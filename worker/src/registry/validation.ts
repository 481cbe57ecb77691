import * as v from "valibot";
import { HEADER_NAME_PATTERN } from "../header-names.ts";
import { isKnownMethod, methodProblem } from "./http-methods.ts";
import {
  GATEWAY_HEADERS,
  NAME_MAX_LENGTH,
  NAME_PATTERN,
  ORIGIN_MAX_LENGTH,
  SEMVER_PATTERN,
  VERSION_MAX_LENGTH,
} from "./patterns.ts";

// Each message completes a sentence that starts with the field's name: "name must be a string".
const MUST_BE_STRING = "must be a string";

export const serviceName = v.pipe(
  v.string(MUST_BE_STRING),
  v.minLength(1, "must not be empty"),
  v.maxLength(NAME_MAX_LENGTH, `must be at most ${NAME_MAX_LENGTH} characters`),
  v.regex(
    NAME_PATTERN,
    "must be lower-case letters, digits and underscores, not starting or ending with an underscore",
  ),
);

export const serviceVersion = v.pipe(
  v.string(MUST_BE_STRING),
  v.maxLength(VERSION_MAX_LENGTH, `must be at most ${VERSION_MAX_LENGTH} characters`),
  v.regex(SEMVER_PATTERN, "must be a SemVer 2.0 version such as 1.0.0 or 2.1.0-rc.1"),
);

/**
 * Checks an origin URL and returns it without a trailing slash, so that
 * origin + "/rest" never doubles the slash.
 */
export function normaliseOrigin(raw: string): { origin: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: "must be an absolute http:// or https:// URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { problem: `must use http: or https:, not ${url.protocol}` };
  }
  if (url.username !== "" || url.password !== "") return { problem: "must not contain credentials" };
  if (raw.includes("#")) return { problem: "must not contain a fragment" };
  if (url.search !== "") return { problem: "must not contain a query string; the client's query is forwarded" };
  return { origin: `${url.origin}${url.pathname.replace(/\/+$/, "")}` };
}

/** The length is checked first: valibot stops a pipe before its transformation once an issue is found. */
export const originUrl = v.pipe(
  v.string(MUST_BE_STRING),
  v.maxLength(ORIGIN_MAX_LENGTH, `must be at most ${ORIGIN_MAX_LENGTH} characters`),
  v.metadata({ format: "uri", examples: ["https://hello-v1.example.com"] }),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const result = normaliseOrigin(dataset.value);
    if ("problem" in result) {
      addIssue({ message: result.problem });
      return NEVER;
    }
    return result.origin;
  }),
);

// Traffic controls: what share of requests, and which methods, a version receives while a shadow.

/**
 * Shares are kept to two decimals (0.01 % steps); more would promise a precision sampling cannot give.
 * The margin absorbs binary fractions only: 0.07 × 100 is 7.000000000000001.
 */
export function hasAtMostTwoDecimals(value: number): boolean {
  const hundredths = value * 100;
  return Math.abs(hundredths - Math.round(hundredths)) < 1e-9;
}

const PERCENT_RANGE = "must be a number from 0 to 100";

export const mirrorPercent = v.pipe(
  v.number(PERCENT_RANGE),
  v.minValue(0, PERCENT_RANGE),
  v.maxValue(100, PERCENT_RANGE),
  v.check(hasAtMostTwoDecimals, "must have at most two decimals, such as 12.5 or 0.25"),
);

/** A canary answers at most half of a name's requests: past that, it is main in all but name. */
export const CANARY_MAX_PERCENT = 50;
const CANARY_RANGE = `must be a number from 0 to ${CANARY_MAX_PERCENT}`;

export const canaryPercent = v.pipe(
  v.number(CANARY_RANGE),
  v.minValue(0, CANARY_RANGE),
  v.maxValue(CANARY_MAX_PERCENT, CANARY_RANGE),
  v.check(hasAtMostTwoDecimals, "must have at most two decimals, such as 12.5 or 0.25"),
);

/** An opt-in, never a default: a copy of a write reaches a main that may not know the copy marker. */
export const canaryWrites = v.boolean("must be true or false");

/** Header names as the runtime's Headers lowercase them; a request without the header falls back to its id. */
export const canaryKey = v.nullable(
  v.pipe(
    v.string("must be a header name such as x-user-id, or null for the request id"),
    v.minLength(1, "must not be empty; use null for the request id"),
    v.maxLength(128, "must be at most 128 characters"),
    v.regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/, "must be a lower-case header name such as x-user-id"),
  ),
);

// A method must be a known one (./http-methods.ts); methods are case-sensitive, so `get` is not `GET`.
const METHODS_MAX = 32;
const METHOD_MAX_LENGTH = 32;

export const mirrorMethods = v.nullable(
  v.pipe(
    v.array(
      v.pipe(
        v.string(MUST_BE_STRING),
        v.maxLength(METHOD_MAX_LENGTH, `must be at most ${METHOD_MAX_LENGTH} characters`),
        v.check(isKnownMethod, (issue) => methodProblem(String(issue.input)) ?? ""),
      ),
      'must be a list of HTTP methods such as ["GET", "HEAD"], or null for every method',
    ),
    v.minLength(1, "must name at least one method, or be null for every method"),
    v.maxLength(METHODS_MAX, `must name at most ${METHODS_MAX} methods`),
    v.check((methods) => new Set(methods).size === methods.length, "must not name a method twice"),
  ),
);

// Windows of time that evidence is read over, and the headers a version's copies go without.

const MINUTE_MS = 60_000;
const UNIT_MS = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: 24 * 60 * MINUTE_MS } as const;
const WINDOW_MIN_MS = 5 * MINUTE_MS;
const WINDOW_MAX_MS = 7 * UNIT_MS.d;
const WINDOW_PATTERN = /^([1-9][0-9]{0,5})([mhd])$/;

/** `90m`, `1h` or `7d` in ms; `undefined` when it is not such a duration. */
export function parseWindow(text: string): number | undefined {
  const match = WINDOW_PATTERN.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/**
 * A report's window, given as `<n>m`, `<n>h` or `<n>d`, from 5 minutes to 7 days. It stays text
 * here (the OpenAPI document describes inputs up to their first transformation); `parseWindow` reads it.
 */
export const reportWindow = v.pipe(
  v.string(MUST_BE_STRING),
  v.check((text) => parseWindow(text) !== undefined, "must be a duration such as 5m, 1h or 7d"),
  v.check((text) => {
    const ms = parseWindow(text) ?? 0;
    return ms >= WINDOW_MIN_MS && ms <= WINDOW_MAX_MS;
  }, "must be from 5m to 7d"),
);

/** Request headers a version's copies go without; any case, kept lower-case. */
export const strippedHeaders = v.pipe(
  v.array(
    v.pipe(
      v.string(MUST_BE_STRING),
      v.transform((name) => name.trim().toLowerCase()),
      v.minLength(1, "must not list an empty header name"),
      v.maxLength(128, "must list header names of at most 128 characters"),
      v.regex(HEADER_NAME_PATTERN, "must list header names such as authorization or cookie"),
    ),
    "must be a list of header names",
  ),
  v.maxLength(50, "must list at most 50 headers"),
  v.check((names) => new Set(names).size === names.length, "must not list a header twice"),
  v.check(
    (names) => !names.some((name) => GATEWAY_HEADERS.includes(name)),
    `must not list the gateway's own headers (${GATEWAY_HEADERS.join(", ")}): they keep copies from looping`,
  ),
);

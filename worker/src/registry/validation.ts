import * as v from "valibot";
import { NAME_MAX_LENGTH, NAME_PATTERN, ORIGIN_MAX_LENGTH, SEMVER_PATTERN, VERSION_MAX_LENGTH } from "./patterns.ts";

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

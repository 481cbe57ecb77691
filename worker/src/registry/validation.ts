import { z } from "zod";

/** Daeploy's rule: lower-case letters, digits and underscores, not starting or ending with "_". */
export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9_]*[a-z0-9])?$/;
export const NAME_MAX_LENGTH = 63;

// Strict SemVer 2.0: no leading zeros in numeric identifiers, optional pre-release and build metadata.
const numeric = "(?:0|[1-9]\\d*)";
const prerelease = "(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)";
const build = "[0-9a-zA-Z-]+";
export const SEMVER_SOURCE = `${numeric}\\.${numeric}\\.${numeric}(?:-${prerelease}(?:\\.${prerelease})*)?(?:\\+${build}(?:\\.${build})*)?`;
export const SEMVER_PATTERN = new RegExp(`^${SEMVER_SOURCE}$`);
export const VERSION_MAX_LENGTH = 128;

export const serviceName = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .max(NAME_MAX_LENGTH, { error: `must be at most ${NAME_MAX_LENGTH} characters` })
  .regex(NAME_PATTERN, {
    error: "must be lower-case letters, digits and underscores, not starting or ending with an underscore",
  });

export const serviceVersion = z
  .string({ error: "must be a string" })
  .max(VERSION_MAX_LENGTH, { error: `must be at most ${VERSION_MAX_LENGTH} characters` })
  .regex(SEMVER_PATTERN, { error: "must be a SemVer 2.0 version such as 1.0.0 or 2.1.0-rc.1" });

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

export const originUrl = z.string({ error: "must be a string" }).transform((raw, ctx) => {
  const result = normaliseOrigin(raw);
  if ("problem" in result) {
    ctx.addIssue({ code: "custom", message: result.problem });
    return z.NEVER;
  }
  return result.origin;
});

// The shapes of names and versions, free of any validation library so that the proxy can use them too.

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

/** Long enough for any real origin; an origin is logged and sent with every request, so it must stay small. */
export const ORIGIN_MAX_LENGTH = 2048;

/**
 * Headers the gateway itself sets on a copy: without them a copy could loop or pass for a client's
 * request, so no version's `stripHeaders` may name them (the API refuses it).
 */
export const GATEWAY_HEADERS: readonly string[] = ["via", "x-request-id", "x-daeploy-shadow", "x-daeploy-shadow-proof"];

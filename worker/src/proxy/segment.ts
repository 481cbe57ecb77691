import { NAME_MAX_LENGTH, NAME_PATTERN, SEMVER_SOURCE } from "../registry/patterns.ts";

const VERSIONED = new RegExp(`^(.+)_(${SEMVER_SOURCE})$`);

/** What the first path segment after /services/ may address. */
interface ServiceSegment {
  /** The segment read as a whole name, when it is a valid name. */
  name?: string;
  /** The segment read as `<name>_<semver>`, when it has that shape. */
  pinned?: { name: string; version: string };
}

/**
 * Reads a /services/<seg> segment. A valid name never contains a dot and a
 * SemVer always does, so at most one reading can name a real service, and
 * the caller tries `pinned` before `name`.
 */
export function parseServiceSegment(segment: string): ServiceSegment {
  const result: ServiceSegment = {};
  if (segment.length <= NAME_MAX_LENGTH && NAME_PATTERN.test(segment)) result.name = segment;
  const match = VERSIONED.exec(segment);
  if (match?.[1] && match[2] && match[1].length <= NAME_MAX_LENGTH && NAME_PATTERN.test(match[1])) {
    result.pinned = { name: match[1], version: match[2] };
  }
  return result;
}

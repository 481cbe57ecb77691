/**
 * Redirects and sessions, compared by default: where a `Location` points
 * (its path and query, not its host, which names each version's own origin)
 * and which cookies an answer sets (their names, not their values, which are
 * session ids). Identifier-like path segments and query values fold to `*`
 * as field paths do, so `/orders/123` and `/orders/456` are one place.
 */

import { isIdentifierKey } from "./paths.ts";

const fold = (part: string) => (isIdentifierKey(part) ? "*" : part);

/** `Location` as compared: path and query, identifiers folded, parameters in order of name. */
export function comparableLocation(location: string): string {
  let url: URL;
  try {
    url = new URL(location, "http://location.invalid");
  } catch {
    return location;
  }
  const path = url.pathname
    .split("/")
    .map((segment) => fold(decodeURIComponentSafe(segment)))
    .join("/");
  const query = [...url.searchParams]
    .map(([name, value]) => `${name}=${fold(value)}`)
    .sort()
    .join("&");
  return query === "" ? path : `${path}?${query}`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The names of the cookies set, one `Set-Cookie` a line, sorted and once each: `session, theme`. */
export function cookieNames(setCookie: string): string {
  const names = new Set<string>();
  for (const line of setCookie.split("\n")) {
    const equals = line.indexOf("=");
    const name = (equals === -1 ? line : line.slice(0, equals)).trim();
    if (name !== "") names.add(name);
  }
  return [...names].sort().join(", ");
}

import { nearest } from "./edit-distance.ts";

/**
 * The request methods a shadow's traffic controls may name: HTTP's own (RFC 9110, PATCH from RFC 5789,
 * QUERY) and the WebDAV family's (RFC 4918 and its extensions: versioning, ordering, access control,
 * search, bindings, calendars, redirect references). A method outside this list is far more likely a
 * typo (`GTE`) than a real method, and a typo would silently stop a shadow's copies.
 */
export const HTTP_METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
  "QUERY",
  "PROPFIND",
  "PROPPATCH",
  "MKCOL",
  "COPY",
  "MOVE",
  "LOCK",
  "UNLOCK",
  "ACL",
  "BIND",
  "UNBIND",
  "REBIND",
  "SEARCH",
  "ORDERPATCH",
  "MKCALENDAR",
  "MKREDIRECTREF",
  "UPDATEREDIRECTREF",
  "VERSION-CONTROL",
  "REPORT",
  "CHECKOUT",
  "CHECKIN",
  "UNCHECKOUT",
  "MKWORKSPACE",
  "UPDATE",
  "LABEL",
  "MERGE",
  "BASELINE-CONTROL",
  "MKACTIVITY",
  "LINK",
  "UNLINK",
] as const;

const KNOWN: ReadonlySet<string> = new Set(HTTP_METHODS);

export const isKnownMethod = (method: string): boolean => KNOWN.has(method);

/** The known method a mistyped one was probably meant to be: `GTE` → `GET`, `get` → `GET`. */
export function suggestMethod(method: string): string | undefined {
  const upper = method.toUpperCase();
  if (KNOWN.has(upper)) return upper;
  return nearest(upper, HTTP_METHODS);
}

/** Why a method is refused, as the end of a sentence that starts with the field's name; undefined when it is known. */
export function methodProblem(method: string): string | undefined {
  if (isKnownMethod(method)) return undefined;
  const suggestion = suggestMethod(method);
  const shown = JSON.stringify(method);
  return suggestion
    ? `must be an HTTP method such as GET or POST; ${shown} is not one (did you mean ${suggestion}?)`
    : `must be an HTTP method such as GET or POST (RFC 9110 or WebDAV); ${shown} is not one`;
}

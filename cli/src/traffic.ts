import { isKnownMethod, suggestMethod } from "../../worker/src/registry/http-methods.ts";
import type { ServiceRecord } from "./client.ts";
import { UsageError } from "./errors.ts";

/** `25` or `25%`: a number, or one line naming the flag; the range is the API's to check. */
export function parsePercent(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const digits = text.trim().replace(/%$/, "");
  const value = Number(digits);
  if (digits === "" || !Number.isFinite(value)) {
    throw new UsageError(
      `--${flag} takes a share of requests from 0 to 100, e.g. --${flag} 12.5; got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/** `GET,HEAD` (any case, spaces allowed) becomes `["GET","HEAD"]`; `all` means every method (null). */
export function parseMethods(flag: string, text: string | undefined): string[] | null | undefined {
  if (text === undefined) return undefined;
  if (text.trim().toLowerCase() === "all") return null;
  const methods = [
    ...new Set(
      text
        .split(",")
        .map((method) => method.trim().toUpperCase())
        .filter((method) => method !== ""),
    ),
  ];
  // A typo would quietly stop a shadow's copies of that method, so it stops here, before the host is asked.
  for (const method of methods) {
    if (isKnownMethod(method)) continue;
    const suggestion = suggestMethod(method);
    throw new UsageError(
      `--${flag}: ${method} is not an HTTP method${suggestion ? `; did you mean ${suggestion}?` : " (RFC 9110 or WebDAV)"}`,
    );
  }
  return methods;
}

/** `authorization,cookie` (any case, spaces allowed) becomes a list; `none` strips nothing again. */
export function parseHeaderList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  if (text.trim().toLowerCase() === "none") return [];
  return [
    ...new Set(
      text
        .split(",")
        .map((name) => name.trim().toLowerCase())
        .filter((name) => name !== ""),
    ),
  ];
}

/** `x-user-id` stays a header name (the API checks it); `request-id` means the request id (null). */
export function parseCanaryKey(text: string | undefined): string | null | undefined {
  if (text === undefined) return undefined;
  const key = text.trim().toLowerCase();
  return key === "request-id" ? null : key;
}

/** `on` or `off` (also yes/no, true/false) for an opt-in; anything else is one line naming the flag. */
export function parseOnOff(flag: string, text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  const word = text.trim().toLowerCase();
  if (["on", "yes", "true"].includes(word)) return true;
  if (["off", "no", "false"].includes(word)) return false;
  throw new UsageError(`--${flag} takes on or off, e.g. --${flag} off; got ${JSON.stringify(text)}`);
}

/** One line saying what a version receives while it is a shadow, and what share it answers as a canary. */
export function describeTrafficControls(record: ServiceRecord): string {
  const methods = record.mirrorMethods === null ? "every method" : `methods ${record.mirrorMethods.join(", ")}`;
  const stripped = record.stripHeaders.length > 0 ? `, copies without ${record.stripHeaders.join(", ")}` : "";
  const when = record.main ? " (they apply once it is a shadow; main gets everything)" : "";
  const key = record.canaryKey === null ? "the request id" : `the ${record.canaryKey} header`;
  const writes = record.canaryWrites ? " (main gets marked copies of its writes too)" : "";
  const canary =
    record.canaryPercent > 0 ? `; answers ${record.canaryPercent}% as a canary, picked by ${key}${writes}` : "";
  const access = record.forwardAccess ? "; gets the Cloudflare Access assertion" : "";
  return `Traffic controls of ${record.name} ${record.version}: ${record.mirrorPercent}% of requests, ${methods}${stripped}${canary}${access}${when}`;
}

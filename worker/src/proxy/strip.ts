import { GATEWAY_HEADERS } from "../registry/patterns.ts";

/** A shadow's own copy of the headers, without the ones its `stripHeaders` names; `headers` itself is untouched. */
export function withoutHeaders(headers: Headers, strip: readonly string[]): Headers {
  const kept = new Headers(headers);
  for (const name of strip) {
    if (!GATEWAY_HEADERS.includes(name)) kept.delete(name);
  }
  return kept;
}

/**
 * `Via` (RFC 9110 section 7.6.3) is how a request carries the path it has
 * travelled: every proxy appends `<protocol> <received-by>`. Counting this
 * gateway's own entries tells how often a request has come back to it.
 */

/** Splits a Via value into its entries; commas inside a (comment) do not split. */
function viaEntries(via: string): string[] {
  const entries: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < via.length; i++) {
    const char = via[i];
    if (char === "(") depth++;
    else if (char === ")" && depth > 0) depth--;
    else if (char === "," && depth === 0) {
      entries.push(via.slice(start, i));
      start = i + 1;
    }
  }
  entries.push(via.slice(start));
  return entries;
}

/** How many entries of `via` name `gatewayId` as their receiver. */
export function hopsThrough(via: string | null, gatewayId: string): number {
  if (via === null || !via.includes(gatewayId)) return 0;
  let hops = 0;
  for (const entry of viaEntries(via)) {
    const [, receivedBy] = entry.trim().split(/\s+/, 2);
    if (receivedBy === gatewayId) hops++;
  }
  return hops;
}

/** `via` with this gateway's entry appended, as it travels on. */
export const appendVia = (via: string | null, gatewayId: string): string =>
  via === null || via.trim() === "" ? `1.1 ${gatewayId}` : `${via}, 1.1 ${gatewayId}`;

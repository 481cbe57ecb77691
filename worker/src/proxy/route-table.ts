import { listServices, openDatabase } from "../db/queries.ts";
import type { ServiceRow } from "../db/schema.ts";
import { parseServiceSegment } from "../registry/segment.ts";

/** Where one copy of a request goes. */
export interface Target {
  name: string;
  version: string;
  origin: string;
}

/** A segment resolves to main plus its shadows, or to one pinned version. */
export type Route = { kind: "group"; main: Target; shadows: Target[] } | { kind: "pinned"; target: Target };

const toTarget = ({ name, version, origin }: ServiceRow): Target => ({ name, version, origin });

interface CacheEntry {
  rows: ServiceRow[];
  expiresAt: number;
}

// Per isolate. A lookup is at most `ttlMs` old, and writes made through this
// isolate's admin API forget the name at once.
const cache = new Map<string, CacheEntry>();

export function forgetRoutes(name: string): void {
  cache.delete(name);
}

async function versionsOf(d1: D1Database, name: string, ttlMs: number): Promise<ServiceRow[]> {
  const now = Date.now();
  const hit = cache.get(name);
  if (hit && hit.expiresAt > now) return hit.rows;
  const rows = await listServices(openDatabase(d1), name);
  if (ttlMs > 0) cache.set(name, { rows, expiresAt: now + ttlMs });
  return rows;
}

/** Resolves the segment after /services/ by whole segment; `undefined` means no such service. */
export async function resolveRoute(d1: D1Database, segment: string, ttlMs: number): Promise<Route | undefined> {
  const { name, pinned } = parseServiceSegment(segment);
  if (pinned) {
    const row = (await versionsOf(d1, pinned.name, ttlMs)).find((r) => r.version === pinned.version);
    if (row) return { kind: "pinned", target: toTarget(row) };
  }
  if (name === undefined) return undefined;
  const rows = await versionsOf(d1, name, ttlMs);
  const main = rows.find((r) => r.main);
  if (!main) return undefined;
  return { kind: "group", main: toTarget(main), shadows: rows.filter((r) => !r.main).map(toTarget) };
}

import { listServices, openDatabase } from "../db/queries.ts";
import type { ServiceRow } from "../db/schema.ts";
import { ExpiringCache } from "./expiring-cache.ts";
import { parseServiceSegment } from "./segment.ts";

/** Where one copy of a request goes. */
export interface Target {
  name: string;
  version: string;
  origin: string;
}

/** A segment resolves to main plus its shadows, or to one pinned version. */
export type Route = { kind: "group"; main: Target; shadows: Target[] } | { kind: "pinned"; target: Target };

/** Every version of one name, shaped once per lookup so that requests only pick from it. */
interface NameRoutes {
  group?: Route & { kind: "group" };
  pinned: Map<string, Route & { kind: "pinned" }>;
}

/** Enough for every name a gateway serves; random names beyond it push out the oldest lookups. */
export const ROUTE_CACHE_MAX_ENTRIES = 1_000;

// Per isolate. A lookup is served for at most `ttlMs` after its D1 read
// started, and writes made through this isolate's admin API forget the name at once.
const cache = new ExpiringCache<NameRoutes>(ROUTE_CACHE_MAX_ENTRIES);

export function forgetRoutes(name: string): void {
  cache.delete(name);
}

function shapeRoutes(rows: ServiceRow[]): NameRoutes {
  const pinned = new Map<string, Route & { kind: "pinned" }>();
  const shadows: Target[] = [];
  let main: Target | undefined;
  for (const { name, version, origin, main: isMain } of rows) {
    const target = { name, version, origin };
    pinned.set(version, { kind: "pinned", target });
    if (isMain) main = target;
    else shadows.push(target);
  }
  return { group: main && { kind: "group", main, shadows }, pinned };
}

function routesOf(d1: D1Database, name: string, ttlMs: number): Promise<NameRoutes> {
  return cache.get(name, ttlMs, async () => shapeRoutes(await listServices(openDatabase(d1), name)));
}

/** Resolves the segment after /services/ by whole segment; `undefined` means no such service. */
export async function resolveRoute(d1: D1Database, segment: string, ttlMs: number): Promise<Route | undefined> {
  const { name, pinned } = parseServiceSegment(segment);
  if (pinned) {
    const route = (await routesOf(d1, pinned.name, ttlMs)).pinned.get(pinned.version);
    if (route) return route;
  }
  if (name === undefined) return undefined;
  return (await routesOf(d1, name, ttlMs)).group;
}

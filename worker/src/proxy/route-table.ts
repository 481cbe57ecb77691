import { asc, eq } from "drizzle-orm";
import { openDatabase } from "../db/queries.ts";
import { policies, type ServiceRow, services } from "../db/schema.ts";
import { type EvidencePolicy, withDefaults } from "../evidence/verdict.ts";
import { ExpiringCache } from "./expiring-cache.ts";
import { parseServiceSegment } from "./segment.ts";
import type { ShadowControls } from "./selection.ts";

/** Where one copy of a request goes. */
export interface Target {
  name: string;
  version: string;
  origin: string;
  /** Requests to it keep Cloudflare Access's assertion (see credentials.ts); absent is off. */
  forwardAccess?: boolean;
}

/**
 * A shadow with its traffic controls, the headers its copies go without, and whether main gets
 * copies of the writes it answers as a canary, as the D1 row had them.
 */
export type Shadow = Target & ShadowControls & { stripHeaders: readonly string[]; canaryWrites: boolean };

/** A segment resolves to main plus its shadows and the name's policy, or to one pinned version. */
export type Route =
  | { kind: "group"; main: Target; shadows: Shadow[]; policy: EvidencePolicy }
  | { kind: "pinned"; target: Target };

/** Every version of one name, shaped once per lookup so that requests only pick from it. */
interface NameRoutes {
  group?: Route & { kind: "group" };
  pinned: Map<string, Route & { kind: "pinned" }>;
}

/** Enough for every name a gateway serves; random names beyond it push out the oldest lookups. */
const ROUTE_CACHE_MAX_ENTRIES = 1_000;

// Per isolate. A lookup is served for at most `ttlMs` after its D1 read
// started, and writes made through this isolate's admin API forget the name at once.
const cache = new ExpiringCache<NameRoutes>(ROUTE_CACHE_MAX_ENTRIES);

export function forgetRoutes(name: string): void {
  cache.delete(name);
}

function shapeRoutes(rows: ServiceRow[], policy: EvidencePolicy): NameRoutes {
  const pinned = new Map<string, Route & { kind: "pinned" }>();
  const shadows: Shadow[] = [];
  let main: Target | undefined;
  for (const row of rows) {
    const target = { name: row.name, version: row.version, origin: row.origin, forwardAccess: row.forwardAccess };
    pinned.set(row.version, { kind: "pinned", target });
    if (row.main) main = target;
    else
      shadows.push({
        ...target,
        status: row.status,
        mirrorPercent: row.mirrorPercent,
        mirrorMethods: row.mirrorMethods ?? null,
        stripHeaders: row.stripHeaders ?? [],
        canaryPercent: row.canaryPercent,
        canaryKey: row.canaryKey ?? null,
        canaryWrites: row.canaryWrites,
      });
  }
  return { group: main && { kind: "group", main, shadows, policy }, pinned };
}

/** The name's versions and its policy in one D1 round trip. */
async function loadRoutes(d1: D1Database, name: string): Promise<NameRoutes> {
  const db = openDatabase(d1);
  const [rows, policyRows] = await db.batch([
    db.select().from(services).where(eq(services.name, name)).orderBy(asc(services.createdAt), asc(services.version)),
    db.select({ policy: policies.policy }).from(policies).where(eq(policies.name, name)),
  ]);
  return shapeRoutes(rows, withDefaults(policyRows[0]?.policy));
}

function routesOf(d1: D1Database, name: string, ttlMs: number): Promise<NameRoutes> {
  return cache.get(name, ttlMs, () => loadRoutes(d1, name));
}

/** No route: and when the segment pinned a version of a name that exists, that name's versions, to say so. */
export interface NoRoute {
  kind: "none";
  pinnedName?: { name: string; version: string; versions: string[] };
}

/** Resolves the segment after /services/ by whole segment. */
export async function resolveRoute(d1: D1Database, segment: string, ttlMs: number): Promise<Route | NoRoute> {
  const { name, pinned } = parseServiceSegment(segment);
  let pinnedName: NoRoute["pinnedName"];
  if (pinned) {
    const routes = await routesOf(d1, pinned.name, ttlMs);
    const route = routes.pinned.get(pinned.version);
    if (route) return route;
    if (routes.pinned.size > 0) pinnedName = { ...pinned, versions: [...routes.pinned.keys()] };
  }
  const group = name === undefined ? undefined : (await routesOf(d1, name, ttlMs)).group;
  return group ?? { kind: "none", ...(pinnedName && { pinnedName }) };
}

import { readConfig } from "../config.ts";
import { listServices, openDatabase, recordStatus } from "../db/queries.ts";
import type { ServiceRow } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { reasonOf } from "../errors.ts";
import { probeOrigin } from "./probe.ts";

/** A Worker invocation may hold six connections open at once; leave one for D1. */
const PROBE_CONCURRENCY = 5;

interface ProbeSummary {
  probed: number;
  changed: { name: string; version: string; status: string }[];
  /** Origins whose probe or record failed; the others were still probed and recorded. */
  failed: { origin: string; reason: string }[];
}

/**
 * Probes every registered origin once (versions sharing an origin share the
 * probe) and records `running`/`unreachable`. `statusSince` moves only when a
 * status changes, so it tells how long a version has been up or down. A
 * failure with one origin is logged and never stops the others.
 */
export async function probeAllOrigins(env: Env, now: Date): Promise<ProbeSummary> {
  const db = openDatabase(env.DB);
  const byOrigin = new Map<string, ServiceRow[]>();
  for (const row of await listServices(db)) byOrigin.set(row.origin, [...(byOrigin.get(row.origin) ?? []), row]);
  const origins = [...byOrigin.keys()];
  const { healthTimeoutMs } = readConfig(env);
  const summary: ProbeSummary = { probed: origins.length, changed: [], failed: [] };

  const probeAndRecord = async (origin: string) => {
    const { status } = await probeOrigin(origin, healthTimeoutMs);
    for (const row of byOrigin.get(origin) ?? []) {
      if (await recordStatus(db, row, status, now)) {
        summary.changed.push({ name: row.name, version: row.version, status });
      }
    }
  };

  let next = 0;
  const worker = async () => {
    for (let origin = origins[next++]; origin !== undefined; origin = origins[next++]) {
      try {
        await probeAndRecord(origin);
      } catch (error) {
        summary.failed.push({ origin, reason: reasonOf(error) });
        console.error(JSON.stringify({ event: "health_failed", origin, reason: reasonOf(error) }));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PROBE_CONCURRENCY, origins.length) }, worker));

  if (summary.changed.length > 0) {
    console.log(JSON.stringify({ event: "health", probed: origins.length, changed: summary.changed }));
  }
  return summary;
}

import { readConfig } from "../config.ts";
import { listServices, openDatabase, recordStatus } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { probeOrigin } from "./probe.ts";

/** A Worker invocation may hold six connections open at once; leave one for D1. */
const PROBE_CONCURRENCY = 5;

export interface ProbeSummary {
  probed: number;
  changed: { name: string; version: string; status: string }[];
}

/**
 * Probes every registered origin once (versions sharing an origin share the
 * probe) and records `running`/`unreachable`. `statusSince` moves only when a
 * status changes, so it tells how long a version has been up or down.
 */
export async function probeAllOrigins(env: Env, now: Date): Promise<ProbeSummary> {
  const db = openDatabase(env.DB);
  const rows = await listServices(db);
  const origins = [...new Set(rows.map((row) => row.origin))];
  const { healthTimeoutMs } = readConfig(env);
  const results = new Map<string, "running" | "unreachable">();

  let next = 0;
  const worker = async () => {
    while (next < origins.length) {
      const origin = origins[next++] as string;
      results.set(origin, (await probeOrigin(origin, healthTimeoutMs)).status);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PROBE_CONCURRENCY, origins.length) }, worker));

  const changed: ProbeSummary["changed"] = [];
  for (const row of rows) {
    const status = results.get(row.origin);
    if (status && (await recordStatus(db, row, status, now))) {
      changed.push({ name: row.name, version: row.version, status });
    }
  }
  if (changed.length > 0) console.log(JSON.stringify({ event: "health", probed: origins.length, changed }));
  return { probed: origins.length, changed };
}

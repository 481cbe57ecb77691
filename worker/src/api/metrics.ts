import { listServices, openDatabase, readPolicy } from "../db/queries.ts";
import type { ServiceRow } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { reasonOf } from "../errors.ts";
import { callLedger } from "../evidence/ledger-call.ts";
import { GATE_WINDOW } from "../registry/rules.ts";
import { type NameMetrics, writeExposition } from "./prometheus.ts";

/**
 * Every name's metrics, read from its ledger and coordinator in parallel. A
 * name whose ledger cannot answer is left out of this scrape (and logged):
 * Prometheus then sees a gap, never a counter that went down.
 */
export async function collectMetrics(env: Env, now = Date.now()): Promise<string> {
  const db = openDatabase(env.DB);
  const byName = new Map<string, ServiceRow[]>();
  for (const row of await listServices(db)) byName.set(row.name, [...(byName.get(row.name) ?? []), row]);
  const names = await Promise.all(
    [...byName].map(async ([service, versions]): Promise<NameMetrics | undefined> => {
      try {
        const policy = await readPolicy(db, service);
        const shadows = versions.filter((v) => !v.main).map((v) => v.version);
        const main = versions.find((v) => v.main)?.version ?? "";
        const input = { name: service, from: now - GATE_WINDOW.ms, to: now, main, shadows, policy };
        const [metrics, notifications] = await Promise.all([
          shadows.length > 0 ? callLedger(env, service, (ledger, shards) => ledger.metrics({ ...input, shards })) : [],
          policy.notify ? env.SERVICE_COORDINATOR.getByName(service).notificationCounts() : undefined,
        ]);
        return { service, shadows: metrics, ...(notifications && { notifications }) };
      } catch (error) {
        console.error(JSON.stringify({ event: "metrics_unavailable", service, message: reasonOf(error) }));
        return undefined;
      }
    }),
  );
  return writeExposition(names.filter((n): n is NameMetrics => n !== undefined));
}

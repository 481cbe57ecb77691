import type { MinuteCounts } from "../batch.ts";
import { noiseExcuses } from "../verdict/noise.ts";
import { defaultPolicy, noiseKey, parseNoiseKey, parseSignature, signatureRoute } from "../verdict.ts";

/*
 * Prometheus counters never go down, so a copy's outcome for them is fixed
 * when it is recorded: same or different by the ignore list the comparison
 * applied then (ignored paths never reach the ledger) and the noise known
 * then. A later change of the ignore list or of the noise corrects the
 * report, which reads the window afresh, never these counters.
 */

export const OUTCOMES_SCHEMA = `
CREATE TABLE IF NOT EXISTS lifetime_outcomes (
  version TEXT PRIMARY KEY, same INTEGER NOT NULL, different INTEGER NOT NULL, not_compared INTEGER NOT NULL);
-- field: route, a tab, then path and kind; how often the version showed it there over its life.
CREATE TABLE IF NOT EXISTS lifetime_route_fields (
  version TEXT NOT NULL, field TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (version, field));
`;

export const OUTCOME_TABLES = ["lifetime_outcomes", "lifetime_route_fields"];

interface Outcomes {
  same: number;
  different: number;
  notCompared: number;
}

/** This minute's requests per (route, field), added to the version's lifetime counts of them. */
function addRouteFields(sql: SqlStorage, m: MinuteCounts): Map<string, number> {
  const minute = new Map<string, number>();
  for (const signatures of [m.signatures, m.partialSignatures]) {
    for (const [signature, count] of Object.entries(signatures)) {
      const route = signatureRoute(signature);
      for (const difference of parseSignature(signature)) {
        const key = noiseKey(route, difference);
        minute.set(key, (minute.get(key) ?? 0) + count);
      }
    }
  }
  for (const [field, count] of minute) {
    sql.exec(
      `INSERT INTO lifetime_route_fields VALUES (?, ?, ?)
       ON CONFLICT (version, field) DO UPDATE SET count = count + excluded.count`,
      m.version,
      field,
      count,
    );
  }
  return minute;
}

/** Whether a (route, field) counts now: by the version's lifetime rate there against main's lifetime noise there. */
function countsNow(sql: SqlStorage, version: string, key: string): boolean {
  const { route, kind } = parseNoiseKey(key);
  if (kind === "many") return true;
  const one = (query: string, ...args: string[]) =>
    Number(sql.exec<{ n: number }>(query, ...args).toArray()[0]?.n ?? 0);
  const count = one("SELECT count AS n FROM lifetime_route_fields WHERE version = ? AND field = ?", version, key);
  const total = one("SELECT requests AS n FROM lifetime_routes WHERE version = ? AND route = ?", version, route);
  const noisy = one("SELECT count AS n FROM lifetime_noise_paths WHERE field = ?", key);
  const twins = one("SELECT sampled AS n FROM lifetime_noise_routes WHERE route = ?", route);
  return !noiseExcuses(route, { count, total }, { count: noisy, total: twins }, defaultPolicy.gate.alpha);
}

/**
 * Fixes the outcomes of a minute's copies (as the minute rows keep them) and
 * adds them to the version's lifetime outcomes. Call after the minute's
 * routes were added to `lifetime_routes`, inside the transaction that
 * writes the minute.
 */
export function fixOutcomes(sql: SqlStorage, m: MinuteCounts): void {
  const counting = new Set<string>();
  for (const key of addRouteFields(sql, m).keys()) if (countsNow(sql, m.version, key)) counting.add(key);
  const differing = (signatures: Record<string, number>) => {
    let sum = 0;
    for (const [signature, count] of Object.entries(signatures)) {
      const route = signatureRoute(signature);
      if (parseSignature(signature).some((d) => counting.has(noiseKey(route, d)))) sum += count;
    }
    return sum;
  };
  const full = differing(m.signatures);
  const partial = differing(m.partialSignatures);
  sql.exec(
    `INSERT INTO lifetime_outcomes VALUES (?, ?, ?, ?)
     ON CONFLICT (version) DO UPDATE SET same = same + excluded.same,
       different = different + excluded.different, not_compared = not_compared + excluded.not_compared`,
    m.version,
    m.compared - full,
    full + partial,
    m.notCompared - partial,
  );
}

export function lifetimeOutcomes(sql: SqlStorage, version: string): Outcomes {
  const row = sql
    .exec<{ same: number; different: number; not_compared: number }>(
      "SELECT same, different, not_compared FROM lifetime_outcomes WHERE version = ?",
      version,
    )
    .toArray()[0];
  return { same: row?.same ?? 0, different: row?.different ?? 0, notCompared: row?.not_compared ?? 0 };
}

export function forgetOutcomes(sql: SqlStorage, version: string): void {
  sql.exec("DELETE FROM lifetime_outcomes WHERE version = ?", version);
  sql.exec("DELETE FROM lifetime_route_fields WHERE version = ?", version);
}

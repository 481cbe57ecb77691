import type { EvidenceBatch, MainMinute, MinuteCounts, NoiseMinute, WireMinuteCounts } from "../batch.ts";
import { countersFromWire } from "../counters.ts";
import { boundDifferences } from "../fields.ts";
import { fieldKey, noiseKey, parseNoiseKey, parseSignature, signatureOf, signatureRoute } from "../verdict.ts";
import { ADD_COUNTERS, counterValues, mergedJson } from "./counter-rows.ts";
import { type KnownFields, NOISE_FIELDS } from "./known-fields.ts";
import { addNoiseToLifetime, addToLifetime } from "./lifetime.ts";
import { keepSamples } from "./samples.ts";

/** Signature rows one (version, minute) may hold; past it, new signatures count as `unrecorded`. */
export const MAX_SIGNATURES_PER_MINUTE = 500;

/** Where a batch is written: the ledger's SQL and its cache of known fields. */
export interface RecordTarget {
  sql: SqlStorage;
  fields: KnownFields;
}

/** Writes one batch; call inside one transaction. */
export function recordBatch(target: RecordTarget, batch: EvidenceBatch): void {
  for (const m of batch.main ?? []) recordMain(target.sql, m);
  for (const m of batch.shadows) recordMinute(target, m);
  for (const n of batch.noise) recordNoise(target, n);
  keepSamples(target.sql, batch.samples);
}

/** One (version, minute) of main's own traffic. */
function recordMain(sql: SqlStorage, m: MainMinute): void {
  const existing = sql
    .exec<{ latency: string }>("SELECT latency FROM main_traffic WHERE version = ? AND minute = ?", m.version, m.minute)
    .toArray()[0];
  const [s2xx, s3xx, s4xx, s5xx] = m.status;
  sql.exec(
    `INSERT INTO main_traffic VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (version, minute) DO UPDATE SET
       requests = requests + excluded.requests, s2xx = s2xx + excluded.s2xx, s3xx = s3xx + excluded.s3xx,
       s4xx = s4xx + excluded.s4xx, s5xx = s5xx + excluded.s5xx, latency = excluded.latency`,
    m.version,
    m.minute,
    m.requests,
    s2xx,
    s3xx,
    s4xx,
    s5xx,
    mergedJson(existing?.latency, m.latency),
  );
}

/** One minute of main against itself; its routes and fields are bounded like a version's. */
function recordNoise({ sql, fields }: RecordTarget, n: NoiseMinute): void {
  const main = n.main ?? "";
  sql.exec(
    "INSERT INTO noise VALUES (?, ?, ?) ON CONFLICT (main, minute) DO UPDATE SET sampled = sampled + excluded.sampled",
    main,
    n.minute,
    n.sampled,
  );
  const routes = new Map<string, number>();
  for (const [raw, sampled] of Object.entries(n.routes ?? {})) {
    const route = fields.route(raw, n.minute);
    routes.set(route, (routes.get(route) ?? 0) + sampled);
    sql.exec(
      `INSERT INTO noise_routes VALUES (?, ?, ?, ?)
       ON CONFLICT (main, minute, route) DO UPDATE SET sampled = sampled + excluded.sampled`,
      main,
      n.minute,
      route,
      sampled,
    );
  }
  const known = fields.of(NOISE_FIELDS);
  const added = new Map<string, number>();
  const used = new Set<string>();
  for (const [key, count] of Object.entries(n.paths)) {
    const { route, ...raw } = parseNoiseKey(key);
    const [difference] = boundDifferences([raw], known);
    if (!difference) continue;
    used.add(fieldKey(difference));
    const field = noiseKey(fields.route(route, n.minute), difference);
    added.set(field, (added.get(field) ?? 0) + count);
    sql.exec(
      `INSERT INTO noise_paths VALUES (?, ?, ?, ?)
       ON CONFLICT (main, minute, field) DO UPDATE SET count = count + excluded.count`,
      main,
      n.minute,
      field,
      count,
    );
  }
  fields.touch(NOISE_FIELDS, used, n.minute);
  addNoiseToLifetime(sql, { sampled: n.sampled, routes, paths: added });
}

/**
 * One (version, minute) of counters. Signatures are bounded twice here: a
 * field past the version's cap becomes `body many`, and a minute past its
 * number of signature rows keeps counting the requests as `unrecorded`.
 */
function recordMinute(target: RecordTarget, wire: WireMinuteCounts): void {
  const { sql } = target;
  const m: MinuteCounts = { ...wire, ...countersFromWire(wire), routes: wire.routes ?? {} };
  const existing = sql
    .exec<{ latency_main: string; latency_shadow: string }>(
      "SELECT latency_main, latency_shadow FROM counters WHERE version = ? AND baseline = ? AND minute = ?",
      m.version,
      m.baseline,
      m.minute,
    )
    .toArray()[0];
  const kept = keepSignatures(target, m);
  kept.routes = keepRoutes(target, m);
  addToLifetime(sql, kept);
  sql.exec(
    ADD_COUNTERS,
    m.version,
    m.baseline,
    m.minute,
    ...counterValues(kept),
    mergedJson(existing?.latency_main, m.latencyMain),
    mergedJson(existing?.latency_shadow, m.latencyShadow),
  );
}

/**
 * Writes a minute's signatures, bounded, and answers the minute as kept:
 * requests whose signature found no room are `unrecorded` (and, if compared,
 * `notCompared`), and the signatures are those the rows hold.
 */
function keepSignatures({ sql, fields }: RecordTarget, m: MinuteCounts): MinuteCounts {
  const kept: MinuteCounts = { ...m, signatures: {}, partialSignatures: {} };
  const key = [m.version, m.baseline, m.minute] as const;
  let rows = sql
    .exec<{ n: number }>(
      "SELECT COUNT(*) AS n FROM signatures WHERE version = ? AND baseline = ? AND minute = ?",
      ...key,
    )
    .one().n;
  const known = fields.of(m.version);
  const used = new Set<string>();
  const keep = (partial: 0 | 1, signatures: Record<string, number> | undefined) => {
    const into = partial ? kept.partialSignatures : kept.signatures;
    for (const [raw, count] of Object.entries(signatures ?? {})) {
      const differences = boundDifferences(parseSignature(raw), known);
      const signature = signatureOf(differences, fields.route(signatureRoute(raw), m.minute));
      const stored = sql
        .exec(
          "SELECT 1 FROM signatures WHERE version = ? AND baseline = ? AND minute = ? AND partial = ? AND signature = ?",
          ...key,
          partial,
          signature,
        )
        .toArray().length;
      for (const difference of differences) used.add(fieldKey(difference));
      if (stored === 0 && rows >= MAX_SIGNATURES_PER_MINUTE) {
        kept.unrecorded += count;
        if (partial === 0) {
          kept.compared -= count;
          kept.notCompared += count;
        }
        continue;
      }
      if (stored === 0) rows++;
      into[signature] = (into[signature] ?? 0) + count;
      sql.exec(
        `INSERT INTO signatures VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (version, baseline, minute, partial, signature) DO UPDATE SET count = count + excluded.count`,
        ...key,
        partial,
        signature,
        count,
      );
    }
  };
  keep(0, m.signatures);
  keep(1, m.partialSignatures);
  fields.touch(m.version, used, m.minute);
  return kept;
}

/** A minute's requests per route, each route bounded; answers them as kept. */
function keepRoutes({ sql, fields }: RecordTarget, m: MinuteCounts): Record<string, number> {
  const kept: Record<string, number> = {};
  for (const [raw, requests] of Object.entries(m.routes ?? {})) {
    const route = fields.route(raw, m.minute);
    kept[route] = (kept[route] ?? 0) + requests;
    sql.exec(
      `INSERT INTO route_counts VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (version, baseline, minute, route) DO UPDATE SET requests = requests + excluded.requests`,
      m.version,
      m.baseline,
      m.minute,
      route,
      requests,
    );
  }
  return kept;
}

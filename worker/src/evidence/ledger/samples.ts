import { cutBody, type ExchangeSample, SAMPLES_PER_PATH, type SampleSide } from "../batch.ts";
import { MAX_FIELDS_PER_VERSION } from "../fields.ts";

const MINUTE_MS = 60_000;

interface StoredSample extends ExchangeSample {
  version: string;
}

/** The ledger cuts bodies again, so a sample from any writer stays within 8 KiB a side. */
function cutSide(side: SampleSide): SampleSide {
  const { body, cut } = cutBody(side.body);
  return cut ? { ...side, body, truncated: true } : side;
}

/** The sample's paths this version may index: those it indexes already, and new ones while under the cap. */
function indexablePaths(sql: SqlStorage, sample: StoredSample): string[] {
  let indexed: number | undefined;
  return [...new Set(sample.paths)].filter((path) => {
    const kept = sql
      .exec("SELECT 1 FROM sample_paths WHERE version = ? AND path = ? LIMIT 1", sample.version, path)
      .toArray().length;
    if (kept > 0) return true;
    indexed ??= sql
      .exec<{ n: number }>("SELECT COUNT(DISTINCT path) AS n FROM sample_paths WHERE version = ?", sample.version)
      .one().n;
    if (indexed >= MAX_FIELDS_PER_VERSION) return false;
    indexed++;
    return true;
  });
}

/** Stores one sample under its indexable paths; answers the paths it was stored under. */
function storeSample(sql: SqlStorage, sample: StoredSample): string[] {
  const paths = indexablePaths(sql, sample);
  if (paths.length === 0) return paths;
  const { version, ...exchange } = sample;
  const stored: ExchangeSample = { ...exchange, main: cutSide(sample.main), shadow: cutSide(sample.shadow) };
  const at = Date.parse(sample.at);
  const minute = Math.floor((Number.isNaN(at) ? Date.now() : at) / MINUTE_MS);
  const { id } = sql
    .exec<{ id: number }>(
      "INSERT INTO samples (version, minute, sample) VALUES (?, ?, ?) RETURNING id",
      version,
      minute,
      JSON.stringify(stored),
    )
    .one();
  for (const path of paths) sql.exec("INSERT INTO sample_paths VALUES (?, ?, ?)", version, path, id);
  return paths;
}

/**
 * Keeps the newest five samples per (version, path), with bodies cut to
 * 8 KiB: new samples take the place of their paths' oldest, and a sample
 * no path keeps any more is deleted. A version indexes samples under at
 * most MAX_FIELDS_PER_VERSION distinct paths, so rows stay bounded. The
 * oldest are let go once per batch, for each (version, path) it touched,
 * not once per sample: a batch's write holds the isolate's thread (under
 * `wrangler dev`, the gateway's too).
 */
export function keepSamples(sql: SqlStorage, samples: readonly StoredSample[]): void {
  const touched = new Map<string, Set<string>>();
  for (const sample of samples) {
    const paths = storeSample(sql, sample);
    if (paths.length === 0) continue;
    const ofVersion = touched.get(sample.version) ?? new Set<string>();
    for (const path of paths) ofVersion.add(path);
    touched.set(sample.version, ofVersion);
  }
  for (const [version, paths] of touched) {
    for (const path of paths) {
      sql.exec(
        `DELETE FROM sample_paths WHERE version = ? AND path = ? AND sample_id NOT IN
           (SELECT sample_id FROM sample_paths WHERE version = ? AND path = ? ORDER BY sample_id DESC LIMIT ?)`,
        version,
        path,
        version,
        path,
        SAMPLES_PER_PATH,
      );
    }
    sql.exec(
      "DELETE FROM samples WHERE version = ? AND id NOT IN (SELECT sample_id FROM sample_paths WHERE version = ?)",
      version,
      version,
    );
  }
}

/** A version's newest samples, or those kept for one path. */
export function readSamples(
  sql: SqlStorage,
  version: string,
  path: string | undefined,
  limit: number,
): ExchangeSample[] {
  const rows =
    path === undefined
      ? sql.exec<{ sample: string }>(
          "SELECT sample FROM samples WHERE version = ? ORDER BY id DESC LIMIT ?",
          version,
          limit,
        )
      : sql.exec<{ sample: string }>(
          `SELECT s.sample FROM samples s JOIN sample_paths p ON p.sample_id = s.id
           WHERE p.version = ? AND p.path = ? ORDER BY s.id DESC LIMIT ?`,
          version,
          path,
          limit,
        );
  return rows.toArray().map((row) => JSON.parse(row.sample) as ExchangeSample);
}

import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import type { CapturedExchange } from "./record.ts";

const HOUR_MS = 3_600_000;

/** What one isolate hands over for one name: redacted exchanges, and those it had to drop. */
export interface CaptureBatch {
  exchanges: CapturedExchange[];
  /** Captures this isolate dropped (its memory bound, a failed flush) since its last batch. */
  dropped: number;
  maxBytesPerHour: number;
  retentionHours: number;
}

/** One hour of a name's captures. */
interface CaptureWindow {
  from: string;
  to: string;
  requests: number;
  bytes: number;
  /** Captures not kept: over the hour's byte bound, or dropped on the way. */
  dropped: number;
}

/** One stored object of captures, in time order. */
interface CaptureObject {
  key: string;
  firstAt: number;
  lastAt: number;
  requests: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, hour INTEGER NOT NULL, first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL, requests INTEGER NOT NULL, bytes INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS hours (hour INTEGER PRIMARY KEY, requests INTEGER NOT NULL, bytes INTEGER NOT NULL,
  dropped INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS settings (id INTEGER PRIMARY KEY CHECK (id = 1), retention_hours INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS replays (id TEXT PRIMARY KEY, version TEXT NOT NULL, created_at INTEGER NOT NULL);
`;

const encoder = new TextEncoder();

/**
 * One per name: where its captures are indexed and bounded. Isolates send batches here; this object
 * keeps each hour under its byte bound, writes what it keeps to R2 (one object per batch and hour),
 * prunes past the retention with an alarm, and knows the name's replays so that all of it can be
 * deleted with the name.
 */
export class CaptureLog extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  async add(name: string, batch: CaptureBatch): Promise<{ kept: number; dropped: number }> {
    const sql = this.ctx.storage.sql;
    const byHour = new Map<number, CapturedExchange[]>();
    for (const exchange of batch.exchanges) {
      const hour = Math.floor(exchange.at / HOUR_MS) * HOUR_MS;
      byHour.set(hour, [...(byHour.get(hour) ?? []), exchange]);
    }
    let kept = 0;
    let dropped = batch.dropped;
    for (const [hour, exchanges] of byHour) {
      const used = sql.exec<{ bytes: number }>("SELECT bytes FROM hours WHERE hour = ?", hour).toArray()[0]?.bytes ?? 0;
      const lines: string[] = [];
      const times: number[] = [];
      let bytes = 0;
      for (const exchange of exchanges) {
        const line = `${JSON.stringify(exchange)}\n`;
        const size = encoder.encode(line).byteLength;
        if (used + bytes + size > batch.maxBytesPerHour) continue;
        lines.push(line);
        times.push(exchange.at);
        bytes += size;
      }
      const over = exchanges.length - lines.length;
      dropped += over;
      if (lines.length > 0) {
        const key = `${name}/${new Date(hour).toISOString()}/${Date.now()}-${crypto.randomUUID().slice(0, 8)}.ndjson`;
        await this.env.CAPTURES.put(key, lines.join(""), { httpMetadata: { contentType: "application/x-ndjson" } });
        sql.exec(
          "INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?)",
          key,
          hour,
          Math.min(...times),
          Math.max(...times),
          lines.length,
          bytes,
        );
        kept += lines.length;
      }
      this.#countHour(hour, lines.length, bytes, over);
    }
    if (batch.dropped > 0) this.#countHour(Math.floor(Date.now() / HOUR_MS) * HOUR_MS, 0, 0, batch.dropped);
    sql.exec(
      "INSERT INTO settings VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET retention_hours = excluded.retention_hours",
      batch.retentionHours,
    );
    await this.#schedulePrune();
    return { kept, dropped };
  }

  #countHour(hour: number, requests: number, bytes: number, dropped: number): void {
    this.ctx.storage.sql.exec(
      `INSERT INTO hours VALUES (?, ?, ?, ?) ON CONFLICT (hour) DO UPDATE SET requests = requests + excluded.requests,
         bytes = bytes + excluded.bytes, dropped = dropped + excluded.dropped`,
      hour,
      requests,
      bytes,
      dropped,
    );
  }

  /** Every hour kept, oldest first. */
  async windows(): Promise<{ retentionHours: number | null; windows: CaptureWindow[] }> {
    const sql = this.ctx.storage.sql;
    const rows = sql
      .exec<{ hour: number; requests: number; bytes: number; dropped: number }>("SELECT * FROM hours ORDER BY hour")
      .toArray();
    const retention = sql.exec<{ retention_hours: number }>("SELECT retention_hours FROM settings").toArray()[0];
    return {
      retentionHours: retention?.retention_hours ?? null,
      windows: rows.map((row) => ({
        from: new Date(row.hour).toISOString(),
        to: new Date(row.hour + HOUR_MS).toISOString(),
        requests: row.requests,
        bytes: row.bytes,
        dropped: row.dropped,
      })),
    };
  }

  /** The objects holding captures from `from` to `to` (ms), in time order. */
  async objectsBetween(from: number, to: number): Promise<CaptureObject[]> {
    return this.ctx.storage.sql
      .exec<{ key: string; first_at: number; last_at: number; requests: number }>(
        "SELECT key, first_at, last_at, requests FROM objects WHERE last_at >= ? AND first_at <= ? ORDER BY first_at, key",
        from,
        to,
      )
      .toArray()
      .map((row) => ({ key: row.key, firstAt: row.first_at, lastAt: row.last_at, requests: row.requests }));
  }

  async noteReplay(id: string, version: string, at: number): Promise<void> {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO replays VALUES (?, ?, ?)", id, version, at);
  }

  /** The name's replays, newest first. */
  async replays(): Promise<{ id: string; version: string; createdAt: number }[]> {
    return this.ctx.storage.sql
      .exec<{ id: string; version: string; created_at: number }>("SELECT * FROM replays ORDER BY created_at DESC, id")
      .toArray()
      .map((row) => ({ id: row.id, version: row.version, createdAt: row.created_at }));
  }

  /** Deletes every capture of the name from R2, and this object's whole state. */
  async destroy(name: string): Promise<void> {
    let cursor: string | undefined;
    do {
      const listed = await this.env.CAPTURES.list({ prefix: `${name}/`, ...(cursor !== undefined && { cursor }) });
      if (listed.objects.length > 0) await this.env.CAPTURES.delete(listed.objects.map((object) => object.key));
      cursor = listed.truncated ? listed.cursor : undefined;
    } while (cursor !== undefined);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.ctx.storage.sql.exec(SCHEMA);
  }

  /** Deletes the objects past the retention, and the hours they leave empty. */
  override async alarm(): Promise<void> {
    await this.prune(Date.now());
  }

  async prune(now: number): Promise<number> {
    const sql = this.ctx.storage.sql;
    const hours = sql.exec<{ retention_hours: number }>("SELECT retention_hours FROM settings").toArray()[0];
    if (!hours) return 0;
    const cutoff = now - hours.retention_hours * HOUR_MS;
    const expired = sql.exec<{ key: string }>("SELECT key FROM objects WHERE last_at < ?", cutoff).toArray();
    for (let i = 0; i < expired.length; i += 500) {
      await this.env.CAPTURES.delete(expired.slice(i, i + 500).map((row) => row.key));
    }
    sql.exec("DELETE FROM objects WHERE last_at < ?", cutoff);
    sql.exec("DELETE FROM hours WHERE hour + ? <= ?", HOUR_MS, cutoff);
    await this.#schedulePrune();
    return expired.length;
  }

  /** The next alarm: when the oldest object kept passes the retention. */
  async #schedulePrune(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const oldest = sql.exec<{ at: number | null }>("SELECT MIN(last_at) AS at FROM objects").toArray()[0]?.at;
    const hours = sql.exec<{ retention_hours: number }>("SELECT retention_hours FROM settings").toArray()[0];
    if (oldest === null || oldest === undefined || !hours) return;
    const due = oldest + hours.retention_hours * HOUR_MS + 1;
    const set = await this.ctx.storage.getAlarm();
    if (set === null || set > due) await this.ctx.storage.setAlarm(due);
  }
}

import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config.ts";
import { listServices, openDatabase } from "../db/queries.ts";
import type { Env } from "../env.ts";
import { reasonOf } from "../errors.ts";
import { EvidenceBatcher } from "../evidence/batch.ts";
import { type GatewayKey, gatewayKey } from "../proxy/gateway-key.ts";
import { isSampled, requestBucket } from "../proxy/sampling.ts";
import { finishReplay } from "./finish.ts";
import { buildQueue, CaptureReader, type QueueItem } from "./queue.ts";
import { type ReplayRecord, type ReplayStart, replayBaseline, replayLedgerName } from "./record.ts";
import { differencesOf, type Replaying, replayResult, replayTo } from "./send.ts";

const SECOND_MS = 1_000;
const RECORD = "replay";

/** Origins of one tick: the version replayed to, and main (for the noise share). */
interface Targets {
  version: string;
  main: string | undefined;
}

/**
 * One replay: sends a captured window to one version at its rate, one second's worth per alarm,
 * spread over that second. Each request is taken from the queue (and the count stored) before it is
 * sent, so a restart resumes after it and never sends it twice; the alarm survives the restart.
 */
export class ReplayRunner extends DurableObject<Env> {
  #reader: CaptureReader | undefined;
  #batcher: EvidenceBatcher | undefined;
  #key: GatewayKey | undefined;
  /** When this instance last sent a request: the next waits at least 1/rate s after it. */
  #lastSend = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS queue (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, line INTEGER NOT NULL)",
    );
  }

  get #captures(): CaptureReader {
    this.#reader ??= new CaptureReader(this.env.CAPTURES);
    return this.#reader;
  }

  get #evidence(): EvidenceBatcher {
    this.#batcher ??= new EvidenceBatcher((ledger, batch) => this.env.EVIDENCE_LEDGER.getByName(ledger).record(batch));
    return this.#batcher;
  }

  /** Queues the window's requests and starts sending; a replay with nothing to send is done at once. */
  async start(input: ReplayStart): Promise<ReplayRecord> {
    const queue = await buildQueue(this.env.CAPTURE_LOG.getByName(input.name), this.#captures, input);
    const sql = this.ctx.storage.sql;
    for (const [seq, item] of queue.entries()) sql.exec("INSERT INTO queue VALUES (?, ?, ?)", seq, item.key, item.line);
    const record: ReplayRecord = {
      ...input,
      state: queue.length > 0 ? "running" : "done",
      sent: 0,
      total: queue.length,
      createdAt: Date.now(),
      endedAt: queue.length > 0 ? null : Date.now(),
      stoppedBecause: null,
    };
    await this.ctx.storage.put(RECORD, record);
    if (queue.length > 0) await this.ctx.storage.setAlarm(Date.now());
    return record;
  }

  async record(): Promise<ReplayRecord | undefined> {
    return this.ctx.storage.get<ReplayRecord>(RECORD);
  }

  /** Stops a running replay: nothing more is sent. */
  async stop(because: string): Promise<ReplayRecord | undefined> {
    const record = await this.record();
    if (record?.state !== "running") return record;
    const stopped: ReplayRecord = { ...record, state: "stopped", endedAt: Date.now(), stoppedBecause: because };
    await this.ctx.storage.put(RECORD, stopped);
    await this.ctx.storage.deleteAlarm();
    return stopped;
  }

  /** Forgets the replay altogether (its name was deleted). */
  async destroy(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    const record = await this.record();
    if (record?.state !== "running") return;
    const tick = Date.now();
    const targets = await this.#targets(record);
    if (!targets) {
      const stopped = await this.stop(`${record.name} ${record.version} is no longer deployed`);
      if (stopped) await finishReplay(this.env, stopped);
      return;
    }
    const items = this.ctx.storage.sql
      .exec<{ seq: number; key: string; line: number }>(
        "SELECT seq, key, line FROM queue WHERE seq >= ? ORDER BY seq LIMIT ?",
        record.sent,
        record.rate,
      )
      .toArray();
    // Taken before sent: a restart from here on resumes after these, so none is ever sent twice.
    await this.ctx.storage.put(RECORD, { ...record, sent: record.sent + items.length });
    // Paced by when requests really left, not by when they were due: a late timer never makes a burst.
    const spacing = SECOND_MS / record.rate;
    const sending: Promise<void>[] = [];
    for (const item of items) {
      await wait(this.#lastSend + spacing - Date.now());
      this.#lastSend = Date.now();
      sending.push(this.#replayOne(record, targets, item));
    }
    await Promise.all(sending);
    await this.#evidence.flush(replayLedgerName(record.name, record.id));
    const now = await this.record();
    if (now?.state !== "running") return;
    if (now.sent >= now.total) {
      const done: ReplayRecord = { ...now, state: "done", endedAt: Date.now() };
      await this.ctx.storage.put(RECORD, done);
      await finishReplay(this.env, done);
      return;
    }
    await this.ctx.storage.setAlarm(Math.max(tick + SECOND_MS, Date.now()));
  }

  async #targets(record: ReplayRecord): Promise<Targets | undefined> {
    const versions = await listServices(openDatabase(this.env.DB), record.name);
    const version = versions.find((v) => v.version === record.version)?.origin;
    if (version === undefined) return undefined;
    return { version, main: versions.find((v) => v.main)?.origin };
  }

  /** Sends one captured request to the version (and, for a share of safe ones, to main) and keeps the evidence. */
  async #replayOne(record: ReplayRecord, targets: Targets, item: QueueItem & { seq: number }): Promise<void> {
    try {
      const exchange = await this.#captures.exchange(item);
      if (!exchange) return;
      const config = readConfig(this.env);
      this.#key ??= await gatewayKey(this.env);
      const replaying: Replaying = {
        replayId: record.id,
        name: record.name,
        key: this.#key,
        policy: record.policy,
        timeoutMs: config.shadowTimeoutMs,
        capBytes: config.compareMaxBodyBytes,
      };
      const requestId = `${record.id}.${item.seq}`;
      const ledger = replayLedgerName(record.name, record.id);
      const safe = exchange.method === "GET" || exchange.method === "HEAD";
      const twin =
        safe && targets.main !== undefined && isSampled(requestBucket(`noise:${requestId}`), record.policy.noisePercent)
          ? replayTo(targets.main, exchange, `${requestId}.main`, replaying)
          : undefined;
      const answer = await replayTo(targets.version, exchange, requestId, replaying);
      const context = { version: record.version, replayId: record.id, requestId, policy: record.policy };
      this.#evidence.addShadow(ledger, replayResult(exchange, answer, context), (p) => this.ctx.waitUntil(p));
      const main = await twin;
      if (main?.ok && main.status < 500 && !exchange.main.truncated) {
        const { compared, differences } = differencesOf(exchange, main, record.policy);
        if (compared) {
          const noise = { main: replayBaseline(record.id), at: Date.now(), differences };
          this.#evidence.addNoise(ledger, noise, (p) => this.ctx.waitUntil(p));
        }
      }
    } catch (error) {
      console.error(JSON.stringify({ event: "replay_send_failed", replay: record.id, reason: reasonOf(error) }));
    }
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * A name's evidence may be spread over several ledger objects, its shards:
 * shard 0 is `<name>` (so a ledger written before sharding stays readable),
 * shard k is `<name>#<k>`. Every stored number is a sum, so reading each
 * shard and adding them up gives the same evidence as one ledger would hold.
 */

import type { EvidenceBatch } from "./batch.ts";
import type { EvidenceLedger } from "./ledger/index.ts";

/** The object name of a name's shard k. */
export function shardName(name: string, shard: number): string {
  return shard === 0 ? name : `${name}#${shard}`;
}

/**
 * The shard a writer at `slot` (in [0, 1)) sends a name's batches to, out of `shards`. Each isolate
 * draws its slot once, at random, so its batches for a name go to one object and isolates spread
 * evenly over the shards.
 */
export function shardOf(shards: number, slot: number): number {
  return Math.min(shards - 1, Math.floor(slot * shards));
}

/** How often a writer repeats its note of the shards it uses (a destroyed ledger forgets it). */
const NOTE_EVERY_MS = 60_000;

/**
 * Remembers, per name, when this isolate last told shard 0 the highest shard
 * it writes to. Shard 0 keeps the highest ever noted, and reads cover that
 * many shards even after LEDGER_SHARDS shrinks: evidence is never stranded.
 */
export class ShardNotes {
  readonly #noted = new Map<string, { span: number; at: number }>();

  /** Whether `name`'s shard 0 should hear of `span` shards now. */
  due(name: string, span: number, now = Date.now()): boolean {
    if (span <= 1) return false;
    const last = this.#noted.get(name);
    return !last || last.span !== span || now - last.at >= NOTE_EVERY_MS;
  }

  done(name: string, span: number, now = Date.now()): void {
    if (this.#noted.size > 1000) this.#noted.clear();
    this.#noted.set(name, { span, at: now });
  }
}

/** A writer of batches: the ledgers, how many shards they are spread over, its slot, and what it told shard 0. */
interface ShardWriter {
  ledgers: { getByName(name: string): Pick<DurableObjectStub<EvidenceLedger>, "record" | "noteShards"> };
  shards: number;
  /** In [0, 1): which shard the writer uses (see `shardOf`). */
  slot: number;
  notes: ShardNotes;
}

/** Sends one batch of `name` to the writer's shard, once shard 0 knows that shard holds evidence. */
export async function recordInShard(writer: ShardWriter, name: string, batch: EvidenceBatch): Promise<void> {
  const shard = shardOf(writer.shards, writer.slot);
  const span = shard + 1;
  if (writer.notes.due(name, span)) {
    // Shard 0 must know this shard holds evidence before reads may rely on it.
    await writer.ledgers.getByName(name).noteShards(span);
    writer.notes.done(name, span);
  }
  await writer.ledgers.getByName(shardName(name, shard)).record(batch);
}

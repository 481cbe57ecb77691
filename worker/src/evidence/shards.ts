/**
 * A name's evidence may be spread over several ledger objects, its shards:
 * shard 0 is `<name>` (so a ledger written before sharding stays readable),
 * shard k is `<name>#<k>`. Every stored number is a sum, so reading each
 * shard and adding them up gives the same evidence as one ledger would hold.
 */

/** The object name of a name's shard k. */
export function shardName(name: string, shard: number): string {
  return shard === 0 ? name : `${name}#${shard}`;
}

/** This isolate's place among the shards: fixed for its life, so its batches for a name go to one object. */
let isolateSlot = Math.random();

/** The shard this isolate writes a name's batches to, out of `shards`. */
export function isolateShard(shards: number): number {
  return Math.min(shards - 1, Math.floor(isolateSlot * shards));
}

/**
 * Tests and the bench simulate several isolates from one: each `slot` in
 * [0, 1) stands for a different isolate's random choice.
 */
export function setIsolateSlot(slot: number): void {
  isolateSlot = slot;
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

import type { GatewayConfig } from "../config.ts";
import { EvidenceBatcher, type ShadowResult } from "./batch.ts";
import { writeEvidenceEvent } from "./events.ts";
import type { EvidenceLedger } from "./ledger/index.ts";
import { ComparisonMemory } from "./memory.ts";
import { recordInShard, ShardNotes } from "./shards.ts";

type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * Where an isolate's evidence goes: one batcher for every name, writing to this isolate's shard of
 * each name's ledger, and the bound on the bodies held for comparison at once. Built from the ledger
 * binding and the config (see `evidenceFor`), never changed by a request.
 */
export class Evidence {
  readonly batcher: EvidenceBatcher;
  readonly memory: ComparisonMemory;

  constructor(
    ledgers: DurableObjectNamespace<EvidenceLedger>,
    { shards, memoryBytes, slot }: { shards: number; memoryBytes: number; slot: number },
  ) {
    const writer = { ledgers, shards, slot, notes: new ShardNotes() };
    this.batcher = new EvidenceBatcher((name, batch) => recordInShard(writer, name, batch));
    this.memory = new ComparisonMemory(memoryBytes);
  }

  /** One copy's outcome: into the batch, and to Analytics Engine (`events`) when bound. */
  addShadow(
    name: string,
    result: ShadowResult,
    waitUntil: WaitUntil,
    events: AnalyticsEngineDataset | undefined,
  ): void {
    this.batcher.addShadow(name, result, waitUntil);
    writeEvidenceEvent(events, name, result);
  }
}

/** This isolate's place among the shards: drawn once, fixed for its life (see ./shards.ts). */
const isolateSlot = Math.random();

/** Per isolate: the collections built so far, by ledger binding, then by what the config sets. */
const built = new WeakMap<object, Map<string, Evidence>>();

/**
 * The isolate's evidence collection for this ledger binding and this config: every request of an isolate
 * passes the same binding and config and gets the same collection (and its batches) back.
 */
export function evidenceFor(
  env: { EVIDENCE_LEDGER: DurableObjectNamespace<EvidenceLedger> },
  config: Pick<GatewayConfig, "ledgerShards" | "compareMemoryBytes">,
): Evidence {
  const ledgers = env.EVIDENCE_LEDGER;
  let byConfig = built.get(ledgers);
  if (!byConfig) {
    byConfig = new Map();
    built.set(ledgers, byConfig);
  }
  const key = `${config.ledgerShards} ${config.compareMemoryBytes}`;
  let evidence = byConfig.get(key);
  if (!evidence) {
    const shards = config.ledgerShards;
    evidence = new Evidence(ledgers, { shards, memoryBytes: config.compareMemoryBytes, slot: isolateSlot });
    byConfig.set(key, evidence);
  }
  return evidence;
}

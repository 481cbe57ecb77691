import { env } from "cloudflare:workers";
import { readConfig } from "../../src/config.ts";
import type { Env } from "../../src/env.ts";
import { evidenceFor } from "../../src/evidence/collection.ts";
import { GATEWAY, withVars } from "./proxy-helpers.ts";

let taken = 0;

/**
 * The gateway under a configuration no other test uses: its comparison memory bound is a few bytes
 * under the default, which changes nothing else, but the isolate builds it an evidence collection of
 * its own. So the batches that collection's batcher counts as sent to the ledger (one ledger write
 * each, with one shard) are this gateway's requests' alone, as production counts them.
 */
export function gatewayWithOwnCollection() {
  taken++;
  const vars = { COMPARE_MEMORY_BYTES: String(readConfig(env).compareMemoryBytes - taken) };
  const { batcher } = evidenceFor(env, readConfig({ ...env, ...vars } as Env));
  const background: Promise<void>[] = [];
  return {
    async fetch(path: string, init?: RequestInit): Promise<Response> {
      const { response, settled } = await withVars(vars, new Request(`${GATEWAY}${path}`, init));
      background.push(settled());
      return response;
    },
    /** Batches sent to the ledger (and failed), once every request's background work, flushes included, is done. */
    async batches(): Promise<{ sent: number; failed: number }> {
      await Promise.all(background);
      return { sent: batcher.stats.flushes, failed: batcher.stats.failedFlushes };
    },
  };
}

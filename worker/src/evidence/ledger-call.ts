import { readConfig } from "../config.ts";
import type { Env } from "../env.ts";
import type { EvidenceLedger } from "./ledger/index.ts";

/** A ledger that answers slower than this counts as unreachable, so that it cannot hold an admin call (or a name's queue). */
const LEDGER_TIMEOUT_MS = 5_000;

/**
 * One call to a name's evidence ledger, bounded in time. The call goes to
 * the name's shard 0, which reads (or forgets) every other shard with
 * `shards`: the gateway's LEDGER_SHARDS, and any more shards ever used.
 */
export async function callLedger<T>(
  env: Env,
  name: string,
  call: (ledger: DurableObjectStub<EvidenceLedger>, shards: number) => Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the ledger did not answer within ${LEDGER_TIMEOUT_MS} ms`)),
      LEDGER_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([call(env.EVIDENCE_LEDGER.getByName(name), readConfig(env).ledgerShards), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

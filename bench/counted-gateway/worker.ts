// The gateway as wrangler.toml builds it, except that each evidence ledger also counts the batches it
// takes, in a table of its own that lib/ledger-writes.ts reads from the gateway's state directory.
// The count is the bench's: the gateway's own ledger keeps none. lib/wrangler-dev.ts runs this entry.
import type { EvidenceBatch } from "../../worker/src/evidence/batch.ts";
import { EvidenceLedger as GatewayLedger } from "../../worker/src/index.ts";

export * from "../../worker/src/index.ts";
export { default } from "../../worker/src/index.ts";

export class EvidenceLedger extends GatewayLedger {
  override async record(batch: EvidenceBatch): Promise<void> {
    await super.record(batch);
    // One row: the batches this ledger has taken (a name the gateway's schema never uses or drops).
    const sql = this.ctx.storage.sql;
    sql.exec(
      "CREATE TABLE IF NOT EXISTS bench_batches (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL)",
    );
    sql.exec("INSERT INTO bench_batches VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET count = count + 1");
  }
}

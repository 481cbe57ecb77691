// Ledger writes, read from outside the gateway: the bench's gateway (counted-gateway/worker.ts)
// has every evidence ledger count the batches it takes in its own SQLite storage (table
// `bench_batches`), which wrangler dev keeps under the gateway's state directory. Reading the
// files keeps any counter out of the gateway's API and out of its code.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

function ledgerFiles(stateDir: string): string[] {
  const doDir = join(stateDir, "wrangler-state", "v3", "do");
  if (!existsSync(doDir)) return [];
  return readdirSync(doDir)
    .filter((dir) => dir.endsWith("EvidenceLedger"))
    .flatMap((dir) =>
      readdirSync(join(doDir, dir))
        .filter((file) => file.endsWith(".sqlite"))
        .map((file) => join(doDir, dir, file)),
    );
}

/** Batches every ledger of one gateway has taken so far. */
export function ledgerWrites(stateDir: string): number {
  let total = 0;
  for (const file of ledgerFiles(stateDir)) {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const row = db.prepare("SELECT COALESCE(SUM(count), 0) AS n FROM bench_batches").get() as
        | { n: number }
        | undefined;
      total += Number(row?.n ?? 0);
    } catch {
      // A ledger that has not written yet has no table.
    } finally {
      db.close();
    }
  }
  return total;
}

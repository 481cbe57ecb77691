import type { AuditEntry, Database } from "../db/queries.ts";
import type { Env } from "../env.ts";
import type { Actor } from "../registry/records.ts";

/** What a name's changes run with: the bindings, D1, and the coordinator's own storage. */
export interface NameContext {
  env: Env;
  db: Database;
  kv: SyncKvStorage;
}

/** Who asked for a change: passed in by the API, so the audit row written with the change names them. */
export const auditEntry = (
  actor: Actor,
  action: AuditEntry["action"],
  name: string,
  version: string | null,
  detail: AuditEntry["detail"],
): AuditEntry => ({
  at: new Date(),
  actor,
  action,
  name,
  version,
  detail,
});

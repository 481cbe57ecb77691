import type { ServiceCoordinator } from "./coordinator/ServiceCoordinator.ts";
import type { EvidenceLedger } from "./evidence/ledger.ts";

/** The bindings and variables of wrangler.toml, plus the ADMIN_TOKEN secret. */
export interface Env {
  DB: D1Database;
  SERVICE_COORDINATOR: DurableObjectNamespace<ServiceCoordinator>;
  EVIDENCE_LEDGER: DurableObjectNamespace<EvidenceLedger>;
  ADMIN_TOKEN?: string;
  MIRROR_MAX_BODY_BYTES?: string;
  ORIGIN_TIMEOUT_MS?: string;
  SHADOW_TIMEOUT_MS?: string;
  ROUTES_CACHE_TTL_MS?: string;
  HEALTH_TIMEOUT_MS?: string;
  MAX_HOPS?: string;
}

export interface AppEnv {
  Bindings: Env;
}

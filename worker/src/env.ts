/// <reference path="./worker-configuration.d.ts" />
import type { Actor } from "./actor.ts";

/**
 * The bindings and variables of wrangler.toml, as `wrangler types` generates
 * them (the first line of that file is the command to run again). A secret
 * can still be missing at run time, and the admin API fails closed when it is.
 * READ_TOKEN is an optional secret, so wrangler.toml does not list it.
 */
export type Env = Omit<Cloudflare.Env, "ADMIN_TOKEN"> & {
  ADMIN_TOKEN?: string;
  /** Optional: may call every GET route of the admin API and nothing else. */
  READ_TOKEN?: string;
  /** Optional Analytics Engine dataset for each copy's evidence; see docs/integrations.md. */
  EVIDENCE_EVENTS?: AnalyticsEngineDataset;
};

export interface AppEnv {
  Bindings: Env;
  Variables: { actor: Actor };
}

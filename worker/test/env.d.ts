import type { D1Migration } from "cloudflare:test";

// The worker's bindings and main module come from the generated worker/src/worker-configuration.d.ts.
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}

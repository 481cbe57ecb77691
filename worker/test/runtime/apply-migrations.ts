import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Each test file gets its own storage; give it the real schema from migrations/.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

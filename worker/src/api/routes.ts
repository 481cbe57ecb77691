import { Hono } from "hono";
import { openDatabase, readAudit, toAuditRecord } from "../db/queries.ts";
import type { AppEnv } from "../env.ts";
import { withNotifyShown } from "../notify/target.ts";
import { accessWarning } from "./access.ts";
import { adminAuth } from "./auth.ts";
import { evidenceRoutes } from "./evidence-routes.ts";
import { describe, openApiDocument } from "./openapi.ts";
import { replayApi } from "./replays.ts";
import { rolloutListRoutes, rolloutRoutes } from "./rollout-routes.ts";
import { AuditQuerySchema, AuditSchema, SessionSchema } from "./schemas.ts";
import { killRoutes, serviceRoutes } from "./service-routes.ts";
import { validate } from "./validate.ts";

/** Where the admin API is mounted; the OpenAPI document's server URL. */
export const ADMIN_API_BASE = "/api/v1";

export const adminApi = new Hono<AppEnv>();

adminApi.use("*", adminAuth());

// Each concern's routes live in their own module, mounted in the order the OpenAPI document lists them.
// Rollouts come before kills: `DELETE /services/:name/rollout` aborts a rollout, before
// `DELETE /services/:name/:version` would read "rollout" as a version.
const routes = adminApi
  .route("/", rolloutListRoutes)
  .route("/", serviceRoutes)
  .route("/", evidenceRoutes)
  .route("/", rolloutRoutes)
  .route("/", killRoutes)
  .get(
    "/audit",
    describe({
      summary:
        "The change history, newest first: who deployed, assigned (with verdict and force), killed, changed what",
      success: { status: 200, description: "The rows, newest first", schema: AuditSchema },
    }),
    validate("query", AuditQuerySchema),
    async (c) => {
      const { name, limit, before } = c.req.valid("query");
      const rows = await readAudit(openDatabase(c.env.DB), {
        name,
        limit: Number(limit),
        before: before === undefined ? undefined : Number(before),
      });
      const audit = rows.map(toAuditRecord).map((row) => ({ ...row, detail: withNotifyShown(row.detail) }));
      return c.json({ audit }, 200);
    },
  )
  .route("/", replayApi);

adminApi.get(
  "/session",
  describe({
    summary: "Who this call is made as, and whether it may change anything (the read token may not)",
    success: { status: 200, description: "The caller", schema: SessionSchema },
  }),
  (c) => {
    const actor = c.get("actor");
    const warning = accessWarning(c.env);
    return c.json({ actor, canWrite: actor !== "read-token", warnings: warning ? [warning] : [] }, 200);
  },
);

let document: ReturnType<typeof openApiDocument> | undefined;

adminApi.get(
  "/openapi.json",
  describe({ summary: "This document", success: { status: 200, description: "The OpenAPI 3.1 document" } }),
  (c) => {
    // Built on first use, so that an isolate that only proxies never pays for it.
    document ??= openApiDocument(adminApi, ADMIN_API_BASE);
    return c.json(document);
  },
);

/** The route types the CLI's `hono/client` is built from. */
export type AdminApi = typeof routes;

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { adminApi } from "./api/routes.ts";
import type { AppEnv, Env } from "./env.ts";
import { AppError, errorResponse } from "./errors.ts";
import { probeAllOrigins } from "./health/cron.ts";
import { answerOwnProbe } from "./health/probe.ts";
import { proxy } from "./proxy/index.ts";

export { ServiceCoordinator } from "./coordinator/ServiceCoordinator.ts";
export { EvidenceLedger } from "./evidence/ledger.ts";

const app = new Hono<AppEnv>();

app.use(answerOwnProbe);
app.route("/api/v1", adminApi);
app.route("/services", proxy);

app.notFound((c) =>
  errorResponse(new AppError(404, "not_found", `Nothing at ${c.req.path}; services live under /services/<name>/`)),
);

app.onError((error) => {
  if (error instanceof AppError) return errorResponse(error);
  if (error instanceof HTTPException && error.status === 415) {
    return errorResponse(
      new AppError(415, "unsupported_media_type", "Send the body as JSON, with `Content-Type: application/json`"),
    );
  }
  if (error instanceof HTTPException && error.status < 500) {
    const code = error.status === 400 ? "bad_request" : "http_error";
    return errorResponse(new AppError(error.status, code, error.message || "Bad request"));
  }
  console.error(JSON.stringify({ event: "unhandled_error", message: String(error), stack: (error as Error).stack }));
  return errorResponse(new AppError(500, "internal_error", "The gateway failed to handle this request"));
});

export default {
  fetch: app.fetch,
  scheduled(controller, env, ctx) {
    ctx.waitUntil(probeAllOrigins(env, new Date(controller.scheduledTime)));
  },
} satisfies ExportedHandler<Env>;

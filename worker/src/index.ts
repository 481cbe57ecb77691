import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { splitAdminHost } from "./api/admin-host.ts";
import { ADMIN_API_BASE, adminApi } from "./api/routes.ts";
import { serveDashboard } from "./dashboard/index.ts";
import { isStorageFailure, storageUnavailable } from "./db/failure.ts";
import type { AppEnv, Env } from "./env.ts";
import { AppError, reasonOf } from "./errors.ts";
import { probeAllOrigins } from "./health/cron.ts";
import { answerOwnProbe } from "./health/probe.ts";
import { watchVerdicts } from "./notify/send.ts";
import { proxy } from "./proxy/index.ts";
import { confineServiceWorkers } from "./proxy/scope.ts";
import { advanceRollouts } from "./rollout/cron.ts";

export { CaptureLog } from "./capture/log.ts";
export { ServiceCoordinator } from "./coordinator/ServiceCoordinator.ts";
export { EvidenceLedger } from "./evidence/ledger/index.ts";
export { ReplayRunner } from "./replay/runner.ts";

const app = new Hono<AppEnv>();

app.use(answerOwnProbe);
app.use(splitAdminHost);
app.use("/services/*", confineServiceWorkers);
app.get("/", (c) => c.redirect("/dashboard/", 302));
app.get("/dashboard", serveDashboard);
app.get("/dashboard/*", serveDashboard);
app.route(ADMIN_API_BASE, adminApi);
app.route("/services", proxy);

app.notFound((c) =>
  new AppError(404, "not_found", `Nothing at ${c.req.path}; services live under /services/<name>/`).getResponse(),
);

app.onError((error) => {
  if (error instanceof AppError) return error.getResponse();
  // Hono's own middleware throws these for a request it cannot take.
  if (error instanceof HTTPException) {
    const code = error.status === 400 ? "bad_request" : "http_error";
    return new AppError(error.status, code, error.message || "The request was refused").getResponse();
  }
  if (isStorageFailure(error)) {
    console.error(JSON.stringify({ event: "storage_failed", message: reasonOf(error) }));
    return storageUnavailable().getResponse();
  }
  console.error(
    JSON.stringify({
      event: "unhandled_error",
      message: reasonOf(error),
      stack: error instanceof Error ? error.stack : undefined,
    }),
  );
  return new AppError(500, "internal_error", "The gateway failed to handle this request").getResponse();
});

export default {
  fetch: app.fetch,
  scheduled(controller, env, ctx) {
    const at = new Date(controller.scheduledTime);
    const passes = { health: probeAllOrigins, verdicts: watchVerdicts, rollouts: advanceRollouts };
    for (const [pass, run] of Object.entries(passes)) {
      // A pass that cannot start (D1 down) is one log line; the other passes still run, and the next minute tries again.
      const failed = (error: unknown) =>
        console.error(JSON.stringify({ event: "cron_pass_failed", pass, reason: reasonOf(error) }));
      ctx.waitUntil(run(env, at).then(() => undefined, failed));
    }
  },
} satisfies ExportedHandler<Env>;

import { Hono } from "hono";
import { createFactory } from "hono/factory";
import { readConfig } from "../config.ts";
import { callLedger } from "../coordinator/ledger-call.ts";
import { GATE_WINDOW, type Outcome, type ServiceCoordinator } from "../coordinator/ServiceCoordinator.ts";
import {
  listRunningRollouts,
  listServices,
  openDatabase,
  readAudit,
  readPolicy,
  readRollout,
  toAuditRecord,
  toPolicyResult,
  toRecord,
} from "../db/queries.ts";
import type { AppEnv, Env } from "../env.ts";
import { AppError, reasonOf } from "../errors.ts";
import type { EvidenceReport } from "../evidence/verdict.ts";
import { probeOrigin } from "../health/probe.ts";
import { assignEvent, killEvents, rolloutEvent } from "../notify/events.ts";
import { notifyName } from "../notify/send.ts";
import { gatewayKey } from "../proxy/gateway-key.ts";
import { forgetRoutes } from "../proxy/route-table.ts";
import type { Actor } from "../registry/records.ts";
import { decideDeploy, findVersion, requireName } from "../registry/rules.ts";
import { parseWindow } from "../registry/validation.ts";
import { rolloutView } from "../rollout/current-step.ts";
import { accessWarning } from "./access.ts";
import { adminAuth } from "./auth.ts";
import { type GateAnswer, gateAnswer } from "./gate.ts";
import { collectMetrics } from "./metrics.ts";
import { describe, openApiDocument } from "./openapi.ts";
import { EXPOSITION_CONTENT_TYPE } from "./prometheus.ts";
import {
  AssignBodySchema,
  AssignResultSchema,
  AuditQuerySchema,
  AuditSchema,
  DeployBodySchema,
  DiffsQuerySchema,
  DiffsSchema,
  EvidenceReportSchema,
  GateQuerySchema,
  GateResultSchema,
  KilledListSchema,
  ListQuerySchema,
  NameParamSchema,
  PolicyBodySchema,
  PolicySchema,
  ReportQuerySchema,
  RolloutBodySchema,
  RolloutListSchema,
  RolloutSchema,
  ServiceListSchema,
  ServiceRecordSchema,
  SessionSchema,
  TrafficControlsBodySchema,
  VersionParamSchema,
  wantsSeries,
} from "./schemas.ts";
import { validate } from "./validate.ts";

/** Where the admin API is mounted; the OpenAPI document's server URL. */
export const ADMIN_API_BASE = "/api/v1";

/** Every write of a name goes through that name's coordinator, which answers with data, not errors. */
async function coordinate<T>(
  env: Env,
  name: string,
  operation: (coordinator: DurableObjectStub<ServiceCoordinator>) => Promise<Outcome<T>>,
): Promise<T> {
  const outcome = await operation(env.SERVICE_COORDINATOR.getByName(name));
  forgetRoutes(name);
  if (!outcome.ok) throw AppError.fromBody(outcome.status, outcome.body);
  return outcome.value;
}

/** Aborts a name's running rollout by hand, and tells the name's notification target. */
async function abortRollout(env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }, name: string, actor: Actor) {
  const change = await coordinate(env, name, (co) => co.abortRollout(name, "aborted by hand", actor));
  ctx.waitUntil(notifyName(env, name, [rolloutEvent(change, new Date())]));
  return rolloutView(env, openDatabase(env.DB), change.rollout, new Date());
}

const EVIDENCE_UNAVAILABLE =
  "The evidence ledger could not be read (`evidence_unavailable`), or the ADMIN_TOKEN secret is not set";

/** Reads of evidence go straight to the name's ledger; one that cannot answer is a 503 saying so. */
async function readEvidence<T>(env: Env, name: string, call: Parameters<typeof callLedger<T>>[2]): Promise<T> {
  try {
    return await callLedger(env, name, call);
  } catch (error) {
    console.error(JSON.stringify({ event: "ledger_unavailable", name, message: reasonOf(error) }));
    throw new AppError(
      503,
      "evidence_unavailable",
      `The evidence of ${name} could not be read (${reasonOf(error)}); try again shortly`,
    );
  }
}

/** One version's verdict over a window, from its name's ledger; the gate's GET and POST share it. */
async function readGate(
  env: Env,
  name: string,
  version: string,
  { window: windowText, answer }: { window: string; answer: "status" | "body" },
): Promise<GateAnswer> {
  const window = parseWindow(windowText) ?? GATE_WINDOW.ms;
  const db = openDatabase(env.DB);
  const versions = await listServices(db, name);
  findVersion(versions, name, version);
  const policy = await readPolicy(db, name);
  const main = versions.find((v) => v.main)?.version ?? "";
  const to = Date.now();
  const input = { name, from: to - window, to, main, shadows: [version], policy };
  const report: EvidenceReport = await readEvidence(env, name, (ledger, shards) => ledger.report({ ...input, shards }));
  return gateAnswer(report, version, windowText, answer);
}

/**
 * The gate's validation and handler, shared by its GET and POST routes. Built by Hono's factory so each
 * route keeps the validated input's types, which the typed client (`hc<AdminApi>`) reads.
 */
const answerGate = createFactory<AppEnv>().createHandlers(
  validate("param", VersionParamSchema),
  validate("query", GateQuerySchema),
  async (c) => {
    const { name, version } = c.req.valid("param");
    const { status, body } = await readGate(c.env, name, version, c.req.valid("query"));
    return c.json(body, status);
  },
);

const describeGate = (how: string) =>
  describe({
    summary: `One version's verdict for a pipeline: 200 only on pass${how}`,
    success: { status: 200, description: "The verdict is pass", schema: GateResultSchema },
    errors: {
      404: "The name, or this version of it, is not deployed",
      412: {
        description:
          "The verdict is fail or inconclusive (a main is always inconclusive); the same body as on pass, with `error`",
        schema: GateResultSchema,
      },
      503: EVIDENCE_UNAVAILABLE,
    },
  });

export const adminApi = new Hono<AppEnv>();

adminApi.use("*", adminAuth());

const routes = adminApi
  .get(
    "/rollouts",
    describe({
      summary: "Every running rollout: what the dashboard shows and sorts among the names needing attention",
      success: { status: 200, description: "The running rollouts", schema: RolloutListSchema },
    }),
    async (c) => {
      const now = new Date();
      const db = openDatabase(c.env.DB);
      const running = await listRunningRollouts(db);
      const rollouts = await Promise.all(running.map((rollout) => rolloutView(c.env, db, rollout, now)));
      return c.json({ rollouts }, 200);
    },
  )
  .get(
    "/services",
    describe({
      summary: "List every version, optionally of one name",
      success: { status: 200, description: "The versions", schema: ServiceListSchema },
    }),
    validate("query", ListQuerySchema),
    async (c) => {
      const { name } = c.req.valid("query");
      const rows = await listServices(openDatabase(c.env.DB), name);
      return c.json({ services: rows.map(toRecord) }, 200);
    },
  )
  .post(
    "/services",
    describe({
      summary: "Deploy a version of a service at an already-running origin",
      success: { status: 201, description: "The new version", schema: ServiceRecordSchema },
      errors: {
        409: "This version of the name is already deployed",
        422:
          "A field is invalid, the origin did not answer the check, or a canary share would exceed the name's 50 " +
          "(or be set on its first version, which is main); `error.field` names the field",
      },
    }),
    validate("json", DeployBodySchema),
    async (c) => {
      const { name, version, origin, check, ...controls } = c.req.valid("json");
      let status: "running" | "unknown" = "unknown";
      if (check) {
        // A version that exists is refused before its origin is waited on; the coordinator still decides.
        decideDeploy(await listServices(openDatabase(c.env.DB), name), name, version);
        const probe = await probeOrigin(origin, readConfig(c.env).healthTimeoutMs, await gatewayKey(c.env));
        if (probe.status === "unreachable") {
          throw new AppError(
            422,
            "origin_unreachable",
            `origin ${origin} did not answer (${probe.reason}); start it first, or skip the check (\`--no-check\` in the CLI, \`"check": false\` in the API)`,
            "origin",
          );
        }
        if (probe.reachesGateway) {
          throw new AppError(
            422,
            "origin_loop",
            `origin ${origin} leads back to this gateway; requests would loop`,
            "origin",
          );
        }
        status = "running";
      }
      const record = await coordinate(c.env, name, (co) =>
        co.deploy({ name, version, origin, status, ...controls }, c.get("actor")),
      );
      return c.json(record, 201);
    },
  )
  .get(
    "/services/:name",
    describe({
      summary: "List the versions of one name",
      success: { status: 200, description: "The versions", schema: ServiceListSchema },
      errors: { 404: "No version of this name is deployed" },
    }),
    validate("param", NameParamSchema),
    async (c) => {
      const { name } = c.req.valid("param");
      const rows = await listServices(openDatabase(c.env.DB), name);
      requireName(rows, name);
      return c.json({ services: rows.map(toRecord) }, 200);
    },
  )
  .put(
    "/services/:name/main",
    describe({
      summary: "Make a version the main of its name, if its evidence over the last hour does not fail the gate",
      success: {
        status: 200,
        description:
          "Whether main changed, the versions after the call, the verdict the gate decided on, " +
          "and a warning when main changed without a pass",
        schema: AssignResultSchema,
      },
      errors: {
        404: "The name, or this version of it, is not deployed",
        409:
          "The version's verdict over the last hour is fail (`gate_failed`; `error.reasons` says why), or its evidence " +
          "could not be read (`evidence_unavailable`). Send `force: true` to force the promotion",
      },
    }),
    validate("param", NameParamSchema),
    validate("json", AssignBodySchema),
    async (c) => {
      const { name } = c.req.valid("param");
      const { version, force } = c.req.valid("json");
      const result = await coordinate(c.env, name, (co) => co.assign(name, version, force, c.get("actor")));
      if (result.changed) c.executionCtx.waitUntil(notifyName(c.env, name, [assignEvent(name, result, new Date())]));
      return c.json(result, 200);
    },
  )
  .patch(
    "/services/:name/:version",
    describe({
      summary:
        "Change the traffic controls of a version: what it receives as a shadow, and what it answers as a canary",
      success: { status: 200, description: "The version after the change", schema: ServiceRecordSchema },
      errors: {
        404: "The name, or this version of it, is not deployed",
        422:
          "A field is invalid, the body sets no field, a canary share is set on main, or the name's canary shares " +
          "would add up to more than 50; `error.field` names the field",
      },
    }),
    validate("param", VersionParamSchema),
    validate("json", TrafficControlsBodySchema),
    async (c) => {
      const { name, version } = c.req.valid("param");
      const body = c.req.valid("json");
      const changes = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
      if (Object.keys(changes).length === 0) {
        throw new AppError(
          422,
          "invalid_field",
          "body must set at least one of mirrorPercent, mirrorMethods, stripHeaders, canaryPercent, canaryKey, canaryWrites and forwardAccess",
          "body",
        );
      }
      const record = await coordinate(c.env, name, (co) =>
        co.setTrafficControls(name, version, changes, c.get("actor")),
      );
      return c.json(record, 200);
    },
  )
  .get(
    "/services/:name/policy",
    describe({
      summary: "The name's evidence policy: ignored paths, compared headers, noise sampling and gate thresholds",
      success: { status: 200, description: "The policy, defaults included", schema: PolicySchema },
      errors: { 404: "No version of this name is deployed" },
    }),
    validate("param", NameParamSchema),
    async (c) => {
      const { name } = c.req.valid("param");
      const db = openDatabase(c.env.DB);
      requireName(await listServices(db, name), name);
      return c.json(toPolicyResult(await readPolicy(db, name)), 200);
    },
  )
  .put(
    "/services/:name/policy",
    describe({
      summary: "Change the name's policy: given fields replace the stored ones, gate thresholds one by one",
      success: {
        status: 200,
        description: "The whole policy after the change, defaults included",
        schema: PolicySchema,
      },
      errors: { 404: "No version of this name is deployed" },
    }),
    validate("param", NameParamSchema),
    validate("json", PolicyBodySchema),
    async (c) => {
      const { name } = c.req.valid("param");
      const changes = c.req.valid("json");
      const policy = await coordinate(c.env, name, (co) => co.setPolicy(name, changes, c.get("actor")));
      return c.json(policy, 200);
    },
  )
  .get(
    "/services/:name/report",
    describe({
      summary:
        "Each shadow's evidence against main over a window, and its verdict; with `series=true`, step by step too",
      success: { status: 200, description: "The report", schema: EvidenceReportSchema },
      errors: {
        404: "No version of this name is deployed, or no evidence was kept against the `baseline` asked for",
        422: "`window`, `series` or `baseline` is not valid",
        503: EVIDENCE_UNAVAILABLE,
      },
    }),
    validate("param", NameParamSchema),
    validate("query", ReportQuerySchema),
    async (c) => {
      const { name } = c.req.valid("param");
      const query = c.req.valid("query");
      const window = parseWindow(query.window) ?? GATE_WINDOW.ms;
      const db = openDatabase(c.env.DB);
      const versions = await listServices(db, name);
      requireName(versions, name);
      const policy = await readPolicy(db, name);
      const main = versions.find((v) => v.main)?.version ?? "";
      const shadows = versions.filter((v) => !v.main).map((v) => v.version);
      const to = Date.now();
      const baseline = query.baseline === main ? undefined : query.baseline;
      const input = { name, from: to - window, to, main, shadows, policy, baseline };
      const kept = (at: string) =>
        readEvidence(c.env, name, (ledger, shards) => ledger.hasBaseline(at, { name, shards }));
      if (baseline !== undefined && !(await kept(baseline))) {
        throw new AppError(
          404,
          "baseline_not_found",
          `No evidence was kept against ${name} ${baseline} as main (baseline); its current main is ${main}`,
        );
      }
      const report: EvidenceReport = await readEvidence(c.env, name, (ledger, shards) =>
        wantsSeries(query.series) ? ledger.reportWithSeries({ ...input, shards }) : ledger.report({ ...input, shards }),
      );
      return c.json(report, 200);
    },
  )
  .get(
    "/services/:name/:version/gate",
    describeGate(" (or always, with `answer=body`: an Argo Rollouts `web` metric reads `{$.verdict}`)"),
    ...answerGate,
  )
  .post(
    "/services/:name/:version/gate",
    describeGate("; any body is accepted and ignored, as a Flagger webhook sends one"),
    ...answerGate,
  )
  .get(
    "/metrics",
    describe({
      summary:
        "Prometheus text exposition: each shadow's copies by outcome, latency histograms, verdict and top fields",
      success: { status: 200, description: "The metrics, as `text/plain; version=0.0.4`" },
    }),
    async (c) => c.body(await collectMetrics(c.env), 200, { "content-type": EXPOSITION_CONTENT_TYPE }),
  )
  .get(
    "/services/:name/:version/diffs",
    describe({
      summary: "Sampled exchanges where a version answered differently from main, newest first",
      success: { status: 200, description: "The samples, main beside the version", schema: DiffsSchema },
      errors: { 404: "The name, or this version of it, is not deployed", 503: EVIDENCE_UNAVAILABLE },
    }),
    validate("param", VersionParamSchema),
    validate("query", DiffsQuerySchema),
    async (c) => {
      const { name, version } = c.req.valid("param");
      const { path, limit } = c.req.valid("query");
      findVersion(await listServices(openDatabase(c.env.DB), name), name, version);
      const diffs = await readEvidence(c.env, name, (ledger, shards) =>
        ledger.diffs(version, { path, limit: Number(limit), name, shards }),
      );
      return c.json(diffs, 200);
    },
  )
  .post(
    "/services/:name/:version/rollout",
    describe({
      summary: "Start a rollout: the version's canary share rises step by step while its verdict passes",
      success: { status: 201, description: "The rollout, at its first step", schema: RolloutSchema },
      errors: {
        404: "The name, or this version of it, is not deployed",
        409:
          "The name already has a rollout running, or the gate refuses the version: `gate_failed` (with " +
          "`error.reasons`) or `evidence_unavailable`; `force: true` overrides the gate",
        422: "A field is invalid, or the version is main; `error.field` names it",
      },
    }),
    validate("param", VersionParamSchema),
    validate("json", RolloutBodySchema),
    async (c) => {
      const { name, version } = c.req.valid("param");
      const spec = c.req.valid("json");
      const change = await coordinate(c.env, name, (co) => co.startRollout(name, version, spec, c.get("actor")));
      c.executionCtx.waitUntil(notifyName(c.env, name, [rolloutEvent(change, new Date())]));
      const view = await rolloutView(c.env, openDatabase(c.env.DB), change.rollout, new Date());
      return c.json({ ...view, ...(change.warning !== undefined && { warning: change.warning }) }, 201);
    },
  )
  .get(
    "/services/:name/:version/rollout",
    describe({
      summary: "The version's rollout: its step, since when, the verdict of each step, and what happens next",
      success: { status: 200, description: "The name's latest rollout, of this version", schema: RolloutSchema },
      errors: { 404: "The version is not deployed, or has no rollout" },
    }),
    validate("param", VersionParamSchema),
    async (c) => {
      const { name, version } = c.req.valid("param");
      const rollout = await readRollout(openDatabase(c.env.DB), name);
      if (rollout?.version !== version) {
        findVersion(await listServices(openDatabase(c.env.DB), name), name, version);
        throw new AppError(404, "rollout_not_found", `${name} ${version} has no rollout`);
      }
      return c.json(await rolloutView(c.env, openDatabase(c.env.DB), rollout, new Date()), 200);
    },
  )
  .delete(
    "/services/:name/:version/rollout",
    describe({
      summary: "Abort the version's running rollout: its canary share goes back to 0",
      success: { status: 200, description: "The aborted rollout", schema: RolloutSchema },
      errors: { 404: "The version has no running rollout" },
    }),
    validate("param", VersionParamSchema),
    async (c) => {
      const { name, version } = c.req.valid("param");
      const running = await readRollout(openDatabase(c.env.DB), name);
      if (running?.state !== "running" || running.version !== version) {
        throw new AppError(404, "rollout_not_found", `${name} ${version} has no running rollout`);
      }
      return c.json(await abortRollout(c.env, c.executionCtx, name, c.get("actor")), 200);
    },
  )
  .get(
    "/services/:name/rollout",
    describe({
      summary: "The name's latest rollout, whichever version it is of",
      success: { status: 200, description: "The rollout", schema: RolloutSchema },
      errors: { 404: "The name is not deployed, or has had no rollout" },
    }),
    validate("param", NameParamSchema),
    async (c) => {
      const { name } = c.req.valid("param");
      const rollout = await readRollout(openDatabase(c.env.DB), name);
      if (!rollout) {
        requireName(await listServices(openDatabase(c.env.DB), name), name);
        throw new AppError(404, "rollout_not_found", `${name} has had no rollout`);
      }
      return c.json(await rolloutView(c.env, openDatabase(c.env.DB), rollout, new Date()), 200);
    },
  )
  .delete(
    "/services/:name/rollout",
    describe({
      summary: "Abort the name's running rollout: its canary share goes back to 0",
      success: { status: 200, description: "The aborted rollout", schema: RolloutSchema },
      errors: { 404: "The name has no running rollout" },
    }),
    validate("param", NameParamSchema),
    async (c) => c.json(await abortRollout(c.env, c.executionCtx, c.req.valid("param").name, c.get("actor")), 200),
  )
  .delete(
    "/services/:name/:version",
    describe({
      summary: "Kill one version (a main only once it has no shadows)",
      success: { status: 200, description: "The killed version", schema: KilledListSchema },
      errors: {
        403: "The version is main and still has shadows",
        404: "The name, or this version of it, is not deployed",
      },
    }),
    validate("param", VersionParamSchema),
    async (c) => {
      const { name, version } = c.req.valid("param");
      // Read first: killing a name's last version takes its policy with it.
      const { notify } = await readPolicy(openDatabase(c.env.DB), name);
      const killed = await coordinate(c.env, name, (co) => co.kill(name, version, c.get("actor")));
      c.executionCtx.waitUntil(notifyName(c.env, name, killEvents(killed, new Date()), notify));
      return c.json({ killed }, 200);
    },
  )
  .delete(
    "/services/:name",
    describe({
      summary: "Kill every version of a name at once",
      success: { status: 200, description: "The killed versions", schema: KilledListSchema },
      errors: { 404: "No version of this name is deployed" },
    }),
    validate("param", NameParamSchema),
    async (c) => {
      const { name } = c.req.valid("param");
      // Read first: killing a name takes its policy with it.
      const { notify } = await readPolicy(openDatabase(c.env.DB), name);
      const killed = await coordinate(c.env, name, (co) => co.kill(name, undefined, c.get("actor")));
      c.executionCtx.waitUntil(notifyName(c.env, name, killEvents(killed, new Date()), notify));
      return c.json({ killed }, 200);
    },
  )
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
      return c.json({ audit: rows.map(toAuditRecord) }, 200);
    },
  );

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

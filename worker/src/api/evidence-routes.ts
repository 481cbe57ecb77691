import { Hono } from "hono";
import { createFactory } from "hono/factory";
import { listServices, openDatabase, readPolicy } from "../db/queries.ts";
import type { AppEnv, Env } from "../env.ts";
import { AppError } from "../errors.ts";
import type { EvidenceReport } from "../evidence/verdict.ts";
import { findVersion, GATE_WINDOW, requireName } from "../registry/rules.ts";
import { parseWindow } from "../registry/validation.ts";
import { isReplayBaseline, reportOfReplay } from "../replay/control.ts";
import { type GateAnswer, gateAnswer } from "./gate.ts";
import { collectMetrics } from "./metrics.ts";
import { describe } from "./openapi.ts";
import { EXPOSITION_CONTENT_TYPE } from "./prometheus.ts";
import { EVIDENCE_UNAVAILABLE, readEvidence } from "./read-evidence.ts";
import {
  DiffsQuerySchema,
  DiffsSchema,
  EvidenceReportSchema,
  GateQuerySchema,
  GateResultSchema,
  NameParamSchema,
  ReportQuerySchema,
  VersionParamSchema,
  wantsSeries,
} from "./schemas.ts";
import { validate } from "./validate.ts";

// Reads of the evidence: the report, a version's gate, its sampled differences, and the Prometheus metrics.

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

export const evidenceRoutes = new Hono<AppEnv>()
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
      if (isReplayBaseline(query.baseline)) {
        return c.json(await reportOfReplay(c.env, name, query.baseline, wantsSeries(query.series)), 200);
      }
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
  );

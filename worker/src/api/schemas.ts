import { CapturesSchema, ReplayBodySchema, ReplayListSchema, ReplaySchema } from "./replay-schemas.ts";
import {
  DiffsSchema,
  EvidenceReportSchema,
  GateResultSchema,
  ReportSeriesSchema,
  ShadowReportSchema,
} from "./schemas/evidence.ts";
import { PolicyBodySchema, PolicySchema } from "./schemas/policy.ts";
import { RolloutBodySchema, RolloutListSchema, RolloutSchema } from "./schemas/rollout.ts";
import {
  AssignBodySchema,
  AssignResultSchema,
  AuditSchema,
  DeployBodySchema,
  ErrorSchema,
  KilledListSchema,
  ServiceListSchema,
  ServiceRecordSchema,
  SessionSchema,
  TrafficControlsBodySchema,
} from "./schemas/services.ts";

// One source for validation, the OpenAPI document and the CLI's types: the schemas live in schemas/, one file
// per concern; this index is what routes and other modules import.
export * from "./schemas/evidence.ts";
export * from "./schemas/policy.ts";
export * from "./schemas/rollout.ts";
export * from "./schemas/services.ts";

/** The named schemas of the OpenAPI document's components. */
export const NAMED_SCHEMAS = {
  ServiceRecord: ServiceRecordSchema,
  ServiceList: ServiceListSchema,
  KilledList: KilledListSchema,
  AssignResult: AssignResultSchema,
  ShadowReport: ShadowReportSchema,
  GateResult: GateResultSchema,
  EvidenceReport: EvidenceReportSchema,
  ReportSeries: ReportSeriesSchema,
  Diffs: DiffsSchema,
  Policy: PolicySchema,
  Audit: AuditSchema,
  Session: SessionSchema,
  Error: ErrorSchema,
  DeployRequest: DeployBodySchema,
  AssignRequest: AssignBodySchema,
  TrafficControlsRequest: TrafficControlsBodySchema,
  PolicyRequest: PolicyBodySchema,
  Rollout: RolloutSchema,
  RolloutList: RolloutListSchema,
  RolloutRequest: RolloutBodySchema,
  Replay: ReplaySchema,
  ReplayList: ReplayListSchema,
  ReplayRequest: ReplayBodySchema,
  Captures: CapturesSchema,
};

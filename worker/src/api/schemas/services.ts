import * as v from "valibot";
import type { AssignResult } from "../../coordinator/results.ts";
import type { ErrorBody } from "../../errors.ts";
import { AUDIT_ACTIONS, SERVICE_STATUSES, type ServiceRecord } from "../../registry/records.ts";
import {
  canaryKey,
  canaryPercent,
  canaryWrites,
  mirrorMethods,
  mirrorPercent,
  originUrl,
  serviceName,
  serviceVersion,
  strippedHeaders,
} from "../../registry/validation.ts";
import { BODY_MUST_BE_OBJECT, count, dateTime } from "./common.ts";
import { ShadowReportSchema } from "./evidence.ts";

// A name's versions, the changes to them, the caller and the audit trail.

const MIRROR_PERCENT = "Share of requests (0–100, two decimals) this version receives while a shadow";
const MIRROR_METHODS = "Methods this version receives while a shadow; null for every method";
const CANARY_PERCENT =
  "Share of requests (0–50, two decimals) this version answers while a shadow; main gets their copies";
const CANARY_KEY =
  "Header whose value picks the canary's requests, so one user stays on one version; null for the request id";
const CANARY_WRITES =
  "Whether main also gets a marked copy of the requests this version answers as a canary that are not GET, " +
  "HEAD or OPTIONS; only for a main that ignores marked requests (X-Daeploy-Shadow: 1), or every such write is done twice";
const STRIP_HEADERS = "Request headers removed from the copies this version receives as a shadow (none by default)";
const FORWARD_ACCESS =
  "Whether requests to this version keep the Cf-Access-Jwt-Assertion header, for an origin that checks it itself; " +
  "off by default, as the gateway's credentials stay at the gateway";

export const ServiceRecordSchema = v.object({
  name: v.string(),
  version: v.string(),
  origin: v.string(),
  main: v.boolean(),
  status: v.picklist(SERVICE_STATUSES),
  statusSince: dateTime,
  createdAt: dateTime,
  mirrorPercent: v.pipe(v.number(), v.description(MIRROR_PERCENT)),
  mirrorMethods: v.pipe(v.nullable(v.array(v.string())), v.description(MIRROR_METHODS)),
  canaryPercent: v.pipe(v.number(), v.description(CANARY_PERCENT)),
  canaryKey: v.pipe(v.nullable(v.string()), v.description(CANARY_KEY)),
  canaryWrites: v.pipe(v.boolean(), v.description(CANARY_WRITES)),
  stripHeaders: v.pipe(v.array(v.string()), v.description(STRIP_HEADERS)),
  forwardAccess: v.pipe(v.boolean(), v.description(FORWARD_ACCESS)),
}) satisfies v.GenericSchema<ServiceRecord>;

export const ServiceListSchema = v.object({ services: v.array(ServiceRecordSchema) });
export const KilledListSchema = v.object({ killed: v.array(ServiceRecordSchema) });

export const ErrorSchema = v.object({
  error: v.object({
    code: v.string(),
    message: v.string(),
    field: v.optional(v.string()),
    reasons: v.optional(
      v.pipe(v.array(v.string()), v.description("Each rule that decided the refusal, with its numbers")),
    ),
  }),
}) satisfies v.GenericSchema<ErrorBody>;
export const AssignResultSchema = v.object({
  changed: v.pipe(v.boolean(), v.description("false when the version already was main: nothing was changed")),
  services: v.array(ServiceRecordSchema),
  verdict: v.pipe(
    v.nullable(ShadowReportSchema),
    v.description("The version's evidence over the last hour that the gate decided on; null when nothing changed"),
  ),
  warning: v.optional(
    v.pipe(v.string(), v.description("Why main changed without a passing verdict (none yet, forced, unreadable)")),
  ),
}) satisfies v.GenericSchema<AssignResult>;

export const AuditSchema = v.object({
  audit: v.pipe(
    v.array(
      v.object({
        id: v.pipe(count, v.description("Increasing; pass the last one as `before` for the next page")),
        at: dateTime,
        actor: v.pipe(v.string(), v.description("admin-token, read-token or access:<email>")),
        action: v.picklist(AUDIT_ACTIONS),
        name: v.string(),
        version: v.pipe(v.nullable(v.string()), v.description("null for a change of the whole name")),
        detail: v.pipe(
          v.record(v.string(), v.unknown()),
          v.description("What changed: the origin, the verdict with force and warning, the killed versions, …"),
        ),
      }),
    ),
    v.description("Newest first"),
  ),
});

// Requests.

export const DeployBodySchema = v.object(
  {
    name: v.pipe(serviceName, v.metadata({ examples: ["hello"] })),
    version: v.pipe(serviceVersion, v.metadata({ examples: ["1.0.0"] })),
    origin: originUrl,
    check: v.optional(
      v.pipe(
        v.boolean("must be true or false"),
        v.description("Refuse the deploy unless the origin answers (any HTTP status)"),
      ),
      true,
    ),
    mirrorPercent: v.optional(v.pipe(mirrorPercent, v.description(MIRROR_PERCENT)), 100),
    mirrorMethods: v.optional(v.pipe(mirrorMethods, v.description(MIRROR_METHODS)), null),
    canaryPercent: v.optional(v.pipe(canaryPercent, v.description(CANARY_PERCENT)), 0),
    canaryKey: v.optional(v.pipe(canaryKey, v.description(CANARY_KEY)), null),
    canaryWrites: v.optional(v.pipe(canaryWrites, v.description(CANARY_WRITES)), false),
    stripHeaders: v.optional(v.pipe(strippedHeaders, v.description(STRIP_HEADERS)), []),
    forwardAccess: v.optional(v.pipe(v.boolean("must be true or false"), v.description(FORWARD_ACCESS)), false),
  },
  BODY_MUST_BE_OBJECT,
);

export const TrafficControlsBodySchema = v.object(
  {
    mirrorPercent: v.optional(v.pipe(mirrorPercent, v.description(MIRROR_PERCENT), v.metadata({ examples: [10] }))),
    mirrorMethods: v.optional(
      v.pipe(mirrorMethods, v.description(MIRROR_METHODS), v.metadata({ examples: [["GET", "HEAD"]] })),
    ),
    canaryPercent: v.optional(v.pipe(canaryPercent, v.description(CANARY_PERCENT), v.metadata({ examples: [20] }))),
    canaryKey: v.optional(v.pipe(canaryKey, v.description(CANARY_KEY), v.metadata({ examples: ["x-user-id"] }))),
    canaryWrites: v.optional(v.pipe(canaryWrites, v.description(CANARY_WRITES), v.metadata({ examples: [false] }))),
    stripHeaders: v.optional(
      v.pipe(strippedHeaders, v.description(STRIP_HEADERS), v.metadata({ examples: [["authorization", "cookie"]] })),
    ),
    forwardAccess: v.optional(v.pipe(v.boolean("must be true or false"), v.description(FORWARD_ACCESS))),
  },
  BODY_MUST_BE_OBJECT,
);

export const AssignBodySchema = v.object(
  {
    version: v.pipe(serviceVersion, v.metadata({ examples: ["2.0.0"] })),
    force: v.optional(
      v.pipe(
        v.boolean("must be true or false"),
        v.description("Change main even when the version's verdict over the last hour is fail"),
      ),
      false,
    ),
  },
  BODY_MUST_BE_OBJECT,
);

export const NameParamSchema = v.object({ name: serviceName });
export const VersionParamSchema = v.object({ name: serviceName, version: serviceVersion });
export const ListQuerySchema = v.object({ name: v.optional(serviceName) });

export const SessionSchema = v.object({
  actor: v.pipe(v.string(), v.description("admin-token, read-token or access:<email>, as the audit trail names it")),
  canWrite: v.pipe(v.boolean(), v.description("false for the read token: every write would get 403 read_only")),
  warnings: v.pipe(
    v.array(v.string()),
    v.description("What in the gateway's settings puts it at risk, such as Access without ADMIN_HOSTNAME"),
  ),
});

const AUDIT_LIMIT = "must be a whole number from 1 to 500";
const AUDIT_DEFAULT_LIMIT = 50;

export const AuditQuerySchema = v.object({
  name: v.optional(v.pipe(serviceName, v.description("Only this name's changes"))),
  limit: v.optional(
    v.pipe(
      v.string(AUDIT_LIMIT),
      v.regex(/^[0-9]{1,3}$/, AUDIT_LIMIT),
      v.check((text) => Number(text) >= 1 && Number(text) <= 500, AUDIT_LIMIT),
      v.description("At most this many rows, newest first: 1 to 500"),
      v.metadata({ examples: ["50"] }),
    ),
    String(AUDIT_DEFAULT_LIMIT),
  ),
  before: v.optional(
    v.pipe(
      v.string("must be a row id"),
      v.regex(/^[1-9][0-9]{0,14}$/, "must be a row id, a whole number of at least 1"),
      v.description("Only rows older than this id: the last id of the previous page"),
    ),
  ),
});

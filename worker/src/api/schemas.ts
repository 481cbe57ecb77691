import * as v from "valibot";
import { AUDIT_ACTIONS, ROLLOUT_STATES, SERVICE_STATUSES } from "../db/schema.ts";
import type { ErrorBody } from "../errors.ts";
import type { ExchangeSample } from "../evidence/batch.ts";
import type { DiffKind } from "../evidence/compare.ts";
import { IGNORE_MAX } from "../evidence/policy-change.ts";
import type { EvidenceReport, ReportSeries, ShadowReport, Verdict } from "../evidence/verdict.ts";
import { NOTIFY_EVENTS, notifyEvents, notifyUrl } from "../notify/target.ts";
import type { AssignResult, PolicyResult, ServiceRecord } from "../registry/records.ts";
import {
  canaryKey,
  canaryPercent,
  canaryWrites,
  differencePath,
  headerName,
  mirrorMethods,
  mirrorPercent,
  originUrl,
  redactPath,
  reportWindow,
  serviceName,
  serviceVersion,
  strippedHeaders,
} from "../registry/validation.ts";
import { FieldRuleSchema, fieldRules, rulePath } from "./rule-schemas.ts";

// One source for validation, the OpenAPI document and the CLI's types.
// Each message completes a sentence that starts with the field's name.

const dateTime = v.pipe(v.string(), v.metadata({ format: "date-time" }));

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

// Evidence, as the ledger reports it.

const VERDICTS = ["pass", "fail", "inconclusive"] as const satisfies readonly Verdict[];
const DIFF_KINDS = [
  "value",
  "type",
  "missing",
  "extra",
  "length",
  "many",
  "bytes",
] as const satisfies readonly DiffKind[];
const count = v.pipe(v.number(), v.integer());
const rate = v.pipe(v.number(), v.description("A fraction of compared requests, 0–1"));
const latency = v.object({ p50: v.number(), p95: v.number(), p99: v.number() });
const interval = v.object({ rate: v.number(), low: v.number(), high: v.number() });
const latencyBand = v.object({
  low: v.number(),
  high: v.pipe(v.nullable(v.number()), v.description("null until enough latencies bound it")),
});
const quantileBands = v.object({ main: latencyBand, shadow: latencyBand });

export const ShadowReportSchema = v.object({
  version: v.string(),
  verdict: v.picklist(VERDICTS),
  reasons: v.pipe(v.array(v.string()), v.description("Which rules decided, with the numbers and the top fields")),
  requests: v.pipe(
    v.object({
      mirrored: v.pipe(count, v.description("Copies sent: same + different + error + notCompared")),
      compared: v.pipe(count, v.description("same + different: copies judged on their answer")),
      same: count,
      different: v.pipe(count, v.description("Copies with at least one difference that counts")),
      error: v.pipe(count, v.description("Copies that could not connect, timed out, or answered 5xx")),
      notCompared: v.pipe(
        count,
        v.description("Copies answered whose bodies could not be compared (over the cap, streamed, memory bound)"),
      ),
      down: v.pipe(count, v.description("Copies never sent: the shadow was marked unreachable or paused")),
      skipped: v.pipe(count, v.description("Copies sampled out or filtered by method: not evidence")),
      unrecorded: v.pipe(
        count,
        v.description("Of notCompared, requests whose field detail was dropped under memory pressure"),
      ),
      canary: v.pipe(
        count,
        v.description("Of mirrored, pairs this version answered as a canary (main's answer was the copy)"),
      ),
    }),
    v.description("Every selected copy has exactly one outcome: same, different, error, notCompared or down"),
  ),
  errors: v.object({ main: count, shadow: count }),
  latencyMs: v.object({ main: latency, shadow: latency }),
  confidence: v.pipe(
    v.object({
      diffRate: v.nullable(interval),
      errorRate: v.pipe(interval, v.description("(error + down) / (mirrored + down)")),
      mainErrorRate: v.number(),
      errorIncrease: v.pipe(
        interval,
        v.description("Per request: (shadow failed alone + down − main failed alone) / (mirrored + down)"),
      ),
      latencySamples: v.pipe(count, v.description("Requests measured on both sides; a timed-out copy at its timeout")),
      latencyMs: v.pipe(
        v.object({ p50: quantileBands, p99: quantileBands }),
        v.description("Bands on each side's median and p99, in ms, from the same requests"),
      ),
      alpha: v.pipe(v.number(), v.description("The gate's alpha the bands were drawn at")),
      anytime: v.pipe(v.literal(true), v.description("The bands hold at any look, however often it is read")),
      moreRequests: v.pipe(
        v.nullable(count),
        v.description("When inconclusive: about how many more requests at the current rates would decide"),
      ),
    }),
    v.description("The bands the verdict was decided on: confidence sequences that hold at every look at once"),
  ),
  fields: v.array(
    v.object({
      path: v.string(),
      kind: v.picklist(DIFF_KINDS),
      count,
      rate,
      noiseRate: rate,
      ignored: v.boolean(),
      counts: v.pipe(v.boolean(), v.description("Whether this field counts against the shadow after noise and ignore")),
    }),
  ),
}) satisfies v.GenericSchema<ShadowReport>;

const perStep = (what: string) => v.pipe(v.array(count), v.description(what));

export const ReportSeriesSchema = v.pipe(
  v.object({
    from: v.pipe(dateTime, v.description("Start of the first step")),
    stepSeconds: v.pipe(
      count,
      v.description("60 up to a 4 h window; wider steps (multiples of 60) keep a longer window to about 240 steps"),
    ),
    main: v.pipe(
      v.object({
        requests: perStep("Every request main served, shadows or not"),
        status: v.object({
          "2xx": perStep("Main's 2xx answers"),
          "3xx": perStep("Main's 3xx answers"),
          "4xx": perStep("Main's 4xx answers"),
          "5xx": perStep("Main's 5xx answers, and requests main never answered (502/504)"),
        }),
        p99Ms: v.pipe(
          v.array(v.nullable(v.number())),
          v.description("p99 of main's own answers per step in ms, null for a step without requests"),
        ),
      }),
      v.description("Main's own traffic, whichever version was main in each step: it goes on across promotions"),
    ),
    promotions: v.pipe(
      v.array(v.object({ at: dateTime, main: v.string() })),
      v.description("Changes of main inside the window (the baseline changed), oldest first"),
    ),
    versions: v.pipe(
      v.array(
        v.object({
          version: v.string(),
          requests: perStep(
            "Mirrored requests per step; main's are those of its widest shadow (sampling is nested, so it saw them all)",
          ),
          compared: v.optional(perStep("Shadows only: compared requests per step")),
          different: v.optional(
            perStep("Shadows only: requests with a counting difference per step, after the ignore and noise rules"),
          ),
          p99Ms: v.pipe(
            v.array(v.nullable(v.number())),
            v.description("p99 latency per step in ms, null for a step without requests"),
          ),
        }),
      ),
      v.description("Main first, then the shadows; every list holds one value per step, oldest first"),
    ),
  }),
  v.description("The report's window step by step, for charts; only with `series=true`"),
) satisfies v.GenericSchema<ReportSeries>;

export const EvidenceReportSchema = v.object({
  name: v.string(),
  main: v.string(),
  window: v.object({ from: dateTime, to: dateTime }),
  baseline: v.pipe(
    v.object({
      main: v.string(),
      since: v.pipe(
        v.nullable(dateTime),
        v.description("When this main took over: evidence against it starts here (null before any)"),
      ),
      until: v.optional(v.pipe(v.nullable(dateTime), v.description("An older baseline: when the next main took over"))),
    }),
    v.description("The main every shadow in this report was compared with; evidence against two mains is never mixed"),
  ),
  mainTraffic: v.pipe(
    v.object({
      requests: count,
      status: v.object({ "2xx": count, "3xx": count, "4xx": count, "5xx": count }),
      latencyMs: latency,
    }),
    v.description("Main's own traffic against this baseline over the window, shadows or not"),
  ),
  shadows: v.array(ShadowReportSchema),
  noise: v.object({
    sampled: count,
    fields: v.array(v.object({ path: v.string(), kind: v.picklist(DIFF_KINDS), rate })),
  }),
  series: v.optional(ReportSeriesSchema),
}) satisfies v.GenericSchema<EvidenceReport>;

const sampleSide = v.object({
  status: count,
  headers: v.record(v.string(), v.string()),
  body: v.string(),
  truncated: v.boolean(),
});

export const DiffsSchema = v.object({
  samples: v.array(
    v.object({
      at: dateTime,
      requestId: v.string(),
      method: v.string(),
      url: v.string(),
      paths: v.array(v.string()),
      main: sampleSide,
      shadow: sampleSide,
    }),
  ),
}) satisfies v.GenericSchema<{ samples: ExchangeSample[] }>;

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

const gateFields = {
  minRequests: v.pipe(
    v.number(),
    v.description("Copies with an outcome needed before any verdict, and compared requests needed for a pass"),
  ),
  maxDiffRate: v.pipe(v.number(), v.description("Largest share of requests with a counting difference")),
  maxErrorRateIncrease: v.pipe(v.number(), v.description("Largest excess of the shadow's error rate over main's")),
  maxP99Ratio: v.pipe(
    v.number(),
    v.description("Fail when the shadow's p99 or median is clearly above this many times main's"),
  ),
  passP99Ratio: v.pipe(
    v.number(),
    v.description("Pass only when the shadow's p99 and median are clearly below this many times main's"),
  ),
  minP99DeltaMs: v.pipe(v.number(), v.description("A slower p99 or median only fails past this many ms")),
  alpha: v.pipe(
    v.number(),
    v.description("Chance of ever failing (or passing) a shadow wrongly, over any number of looks"),
  ),
};

export const PolicySchema = v.object({
  ignore: v.pipe(v.array(v.string()), v.description("Difference paths (and their sub-paths) that never count")),
  headers: v.pipe(v.array(v.string()), v.description("Response headers compared besides content-type")),
  noisePercent: v.pipe(
    v.number(),
    v.description("Share of mirrored GET/HEAD requests also sent to main to learn noise"),
  ),
  redact: v.pipe(
    v.array(v.string()),
    v.description("Sample fields stored redacted besides credential-named ones: query.<parameter>, body.<path>"),
  ),
  rules: v.pipe(
    v.array(FieldRuleSchema),
    v.description("How the values at some paths compare: number (abs, rel), unordered (key), present, format"),
  ),
  gate: v.object(gateFields),
  notify: v.pipe(
    v.nullable(v.object({ url: v.string(), events: v.array(v.picklist(NOTIFY_EVENTS)) })),
    v.description(
      "Where changes of the name are POSTed as JSON events, and which; null for nowhere. The URL is write-only: shown by scheme and host only (`https://hooks.slack.com/…`)",
    ),
  ),
}) satisfies v.GenericSchema<PolicyResult>;

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

const BODY_MUST_BE_OBJECT = "must be a JSON object";

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

const HEADERS_MAX = 20;
const distinct = (items: string[]) => new Set(items).size === items.length;
/** A limit on a rate: 0 is refused, because no evidence can show a rate below it, so nothing would ever pass. */
const rateLimit = (what: string) => {
  const range = `must be a number above 0 and at most 1 (${what}; 0 could never be met)`;
  return v.pipe(v.number(range), v.gtValue(0, range), v.maxValue(1, range));
};

const ignoreEdit = v.pipe(
  v.array(differencePath, "must be a list of difference paths"),
  v.minLength(1, "must name at least one path"),
  v.maxLength(IGNORE_MAX, `must list at most ${IGNORE_MAX} paths`),
  v.check(distinct, "must not list a path twice"),
);

const redactEdit = v.pipe(
  v.array(redactPath, "must be a list of query.<parameter> or body.<path>"),
  v.minLength(1, "must name at least one path"),
  v.maxLength(IGNORE_MAX, `must list at most ${IGNORE_MAX} paths`),
  v.check(distinct, "must not list a path twice"),
);

export const PolicyBodySchema = v.object(
  {
    ignore: v.optional(
      v.pipe(
        v.array(differencePath, "must be a list of difference paths"),
        v.maxLength(IGNORE_MAX, `must list at most ${IGNORE_MAX} paths`),
        v.check(distinct, "must not list a path twice"),
        v.description("Replaces the whole ignore list; to add or remove a path, use ignoreAdd or ignoreRemove"),
        v.metadata({ examples: [["body.time", "header.etag"]] }),
      ),
    ),
    ignoreAdd: v.optional(
      v.pipe(
        ignoreEdit,
        v.description(
          "Adds these paths to the stored ignore list, keeping whatever else is in it (an edit that cannot lose another operator's)",
        ),
        v.metadata({ examples: [["body.time"]] }),
      ),
    ),
    ignoreRemove: v.optional(
      v.pipe(
        ignoreEdit,
        v.description("Removes these paths from the stored ignore list; a path not in it is left alone"),
        v.metadata({ examples: [["header.etag"]] }),
      ),
    ),
    headers: v.optional(
      v.pipe(
        v.array(headerName, "must be a list of header names"),
        v.maxLength(HEADERS_MAX, `must list at most ${HEADERS_MAX} headers`),
        v.check(distinct, "must not list a header twice"),
        v.description("Replaces the compared headers"),
        v.metadata({ examples: [["cache-control"]] }),
      ),
    ),
    redact: v.optional(
      v.pipe(
        v.array(redactPath, "must be a list of query.<parameter> or body.<path>"),
        v.maxLength(IGNORE_MAX, `must list at most ${IGNORE_MAX} paths`),
        v.check(distinct, "must not list a path twice"),
        v.description(
          "Replaces the redacted fields (credential-named ones are always redacted); to add or remove one, use redactAdd or redactRemove",
        ),
        v.metadata({ examples: [["query.user", "body.email"]] }),
      ),
    ),
    redactAdd: v.optional(
      v.pipe(
        redactEdit,
        v.description("Adds these fields to the stored redact list, keeping whatever else is in it"),
        v.metadata({ examples: [["body.email"]] }),
      ),
    ),
    redactRemove: v.optional(
      v.pipe(
        redactEdit,
        v.description("Removes these fields from the stored redact list; a field not in it is left alone"),
        v.metadata({ examples: [["query.user"]] }),
      ),
    ),
    rules: v.optional(
      v.pipe(
        fieldRules,
        v.description(
          "Replaces the field rules: how the values at a path compare. To add or remove one, use rulesAdd or rulesRemove",
        ),
        v.metadata({
          examples: [
            [
              { path: "body.price", match: "number", rel: 1e-6 },
              { path: "body.items", match: "unordered", key: "id" },
              { path: "body.createdAt", match: "present" },
              { path: "body.id", match: "format", format: "uuid" },
            ],
          ],
        }),
      ),
    ),
    rulesAdd: v.optional(
      v.pipe(
        fieldRules,
        v.minLength(1, "must hold at least one rule"),
        v.description("Adds these rules, replacing any stored rule for the same path and keeping the others"),
        v.metadata({ examples: [[{ path: "body.price", match: "number", rel: 1e-6 }]] }),
      ),
    ),
    rulesRemove: v.optional(
      v.pipe(
        v.array(rulePath, "must be a list of field paths"),
        v.minLength(1, "must name at least one path"),
        v.maxLength(IGNORE_MAX, `must list at most ${IGNORE_MAX} paths`),
        v.description("Removes the rules for these paths; a path without a rule is left alone"),
        v.metadata({ examples: [["body.price"]] }),
      ),
    ),
    noisePercent: v.optional(
      v.pipe(
        v.number("must be a number from 0 to 100"),
        v.minValue(0, "must be a number from 0 to 100"),
        v.maxValue(100, "must be a number from 0 to 100"),
        v.metadata({ examples: [5] }),
      ),
    ),
    gate: v.optional(
      v.pipe(
        v.object(
          {
            minRequests: v.optional(
              v.pipe(
                v.number("must be a whole number of at least 1"),
                v.integer("must be a whole number of at least 1"),
                v.minValue(1, "must be a whole number of at least 1"),
              ),
            ),
            maxDiffRate: v.optional(rateLimit("0.01 is 1 %")),
            maxErrorRateIncrease: v.optional(rateLimit("0.01 is 1 point")),
            maxP99Ratio: v.optional(
              v.pipe(v.number("must be a number of at least 1"), v.minValue(1, "must be a number of at least 1")),
            ),
            passP99Ratio: v.optional(
              v.pipe(
                v.number("must be a number above 1 (a shadow as fast as main could never pass at 1)"),
                v.gtValue(1, "must be a number above 1 (a shadow as fast as main could never pass at 1)"),
              ),
            ),
            alpha: v.optional(
              v.pipe(
                v.number("must be a number above 0 and at most 0.2 (0.01 is 1 %)"),
                v.gtValue(0, "must be a number above 0 and at most 0.2 (0.01 is 1 %)"),
                v.maxValue(0.2, "must be a number above 0 and at most 0.2 (0.01 is 1 %)"),
              ),
            ),
            minP99DeltaMs: v.optional(
              v.pipe(
                v.number("must be a number of ms, at least 0"),
                v.minValue(0, "must be a number of ms, at least 0"),
              ),
            ),
          },
          "must be an object of gate thresholds",
        ),
        v.description("Only the given thresholds change"),
      ),
    ),
    notify: v.optional(
      v.nullable(
        v.pipe(
          v.object(
            {
              url: v.optional(notifyUrl),
              events: v.optional(
                v.pipe(notifyEvents, v.metadata({ examples: [["verdict", "assign", "kill"]] })),
                () => [...NOTIFY_EVENTS],
              ),
            },
            "must be an object with url and events",
          ),
          v.description(
            "Replaces where events go: `url` is https: (or http: to loopback), `events` from verdict, assign, kill, rollout (default all); without `url` the stored URL is kept and only the events change; null stops them",
          ),
        ),
      ),
    ),
  },
  BODY_MUST_BE_OBJECT,
);
export type PolicyBody = v.InferOutput<typeof PolicyBodySchema>;

export const NameParamSchema = v.object({ name: serviceName });
export const VersionParamSchema = v.object({ name: serviceName, version: serviceVersion });
export const ListQuerySchema = v.object({ name: v.optional(serviceName) });

export const ReportQuerySchema = v.object({
  window: v.optional(
    v.pipe(
      reportWindow,
      v.description("How far back: <n>m, <n>h or <n>d, from 5m to 7d"),
      v.metadata({ examples: ["1h"] }),
    ),
    "1h",
  ),
  series: v.optional(
    v.pipe(
      v.picklist(["true", "false", "1", "0"], "must be true or false (or 1 or 0)"),
      v.description("Add `series`: each version's requests, differences and p99 step by step over the window"),
      v.metadata({ examples: ["true"] }),
    ),
    "false",
  ),
  baseline: v.optional(
    v.pipe(
      serviceVersion,
      v.description(
        "Read the evidence against an older main (a version that was main): every version compared with it over the window. 404 when none was kept",
      ),
      v.metadata({ examples: ["1.0.0"] }),
    ),
  ),
});

export const GateQuerySchema = v.object({
  window: ReportQuerySchema.entries.window,
  answer: v.optional(
    v.pipe(
      v.picklist(["status", "body"], "must be status or body"),
      v.description(
        "`status` (default): 200 on pass, 412 otherwise. `body`: always 200, the verdict only in the body, " +
          "for tools that treat any non-2xx as an error (Argo Rollouts' web metrics)",
      ),
      v.metadata({ examples: ["body"] }),
    ),
    "status",
  ),
});

export const GateResultSchema = v.pipe(
  v.object({
    ...ShadowReportSchema.entries,
    name: v.string(),
    main: v.pipe(v.string(), v.description("The main the version was compared with")),
    window: v.object({ from: dateTime, to: dateTime }),
    error: v.optional(
      v.pipe(
        v.object({ code: v.picklist(["gate_not_passed"]), message: v.string() }),
        v.description("Only on 412: the verdict in one sentence, as every refusal of the API carries one"),
      ),
    ),
  }),
  v.description("One version's verdict over the window, with the evidence it rests on"),
);
export type GateResult = v.InferOutput<typeof GateResultSchema>;

/** Whether a `series` query value asks for the series. */
export const wantsSeries = (value: string) => value === "true" || value === "1";

const LIMIT_RANGE = "must be a whole number from 1 to 100";
export const DIFFS_DEFAULT_LIMIT = 10;

export const DiffsQuerySchema = v.object({
  path: v.optional(v.pipe(differencePath, v.description("Only samples that differ at this path"))),
  limit: v.optional(
    v.pipe(
      v.string(LIMIT_RANGE),
      v.regex(/^[0-9]{1,3}$/, LIMIT_RANGE),
      v.check((text) => Number(text) >= 1 && Number(text) <= 100, LIMIT_RANGE),
      v.description("At most this many samples, newest first: 1 to 100"),
      v.metadata({ examples: ["10"] }),
    ),
    String(DIFFS_DEFAULT_LIMIT),
  ),
});

export const SessionSchema = v.object({
  actor: v.pipe(v.string(), v.description("admin-token, read-token or access:<email>, as the audit trail names it")),
  canWrite: v.pipe(v.boolean(), v.description("false for the read token: every write would get 403 read_only")),
  warnings: v.pipe(
    v.array(v.string()),
    v.description("What in the gateway's settings puts it at risk, such as Access without ADMIN_HOSTNAME"),
  ),
});

const AUDIT_LIMIT = "must be a whole number from 1 to 500";
export const AUDIT_DEFAULT_LIMIT = 50;

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

/** The named schemas of the OpenAPI document's components. */
// Progressive delivery: a rollout raises a shadow's canary share step by step while its verdict passes.

export const ROLLOUT_STEPS_MAX = 10;
const STEPS_SHAPE = "must be increasing canary shares from 1 to 50, such as [5, 25, 50]";

const rolloutSteps = v.pipe(
  v.array(v.number(STEPS_SHAPE), STEPS_SHAPE),
  v.minLength(1, STEPS_SHAPE),
  v.maxLength(ROLLOUT_STEPS_MAX, `must have at most ${ROLLOUT_STEPS_MAX} steps`),
  v.check((steps) => steps.every((p) => p >= 1 && p <= 50), STEPS_SHAPE),
  v.check((steps) => steps.every((p) => Math.round(p * 100) === p * 100), "must have at most two decimals"),
  v.check((steps) => steps.every((p, i) => i === 0 || p > (steps[i - 1] ?? 0)), STEPS_SHAPE),
);

export const RolloutBodySchema = v.object(
  {
    steps: v.pipe(
      rolloutSteps,
      v.description("The canary share (percent) of each step, increasing, from 1 to 50"),
      v.metadata({ examples: [[5, 25, 50]] }),
    ),
    stepMinutes: v.optional(
      v.pipe(
        v.number("must be a number of minutes, at least 1"),
        v.minValue(1, "must be at least 1 minute"),
        v.maxValue(7 * 24 * 60, "must be at most 7 days (10080 minutes)"),
        v.description("How long each step lasts at least; its verdict over that time decides"),
      ),
      10,
    ),
    promote: v.optional(
      v.pipe(
        v.boolean("must be true or false"),
        v.description("Make the version main through the gate once the last step passes"),
      ),
      true,
    ),
    force: v.optional(
      v.pipe(
        v.boolean("must be true or false"),
        v.description(
          "Start even though the version fails the gate over the last hour, or its evidence cannot be read (audited)",
        ),
      ),
      false,
    ),
  },
  BODY_MUST_BE_OBJECT,
);

const StepResultSchema = v.object({
  percent: v.number(),
  verdict: v.picklist(VERDICTS),
  reasons: v.array(v.string()),
  at: dateTime,
});

const CurrentStepSchema = v.object({
  percent: v.number(),
  verdict: v.pipe(
    v.nullable(v.picklist(VERDICTS)),
    v.description("As the cron would judge the step now; null when the evidence could not be read (the cron waits)"),
  ),
  reasons: v.pipe(v.array(v.string()), v.description("Why: the verdict's reasons, or why there is none")),
  since: v.pipe(
    dateTime,
    v.description(
      "Start of the evidence judged: the first whole minute after the step began; for a fail, the minute it began in",
    ),
  ),
  at: v.pipe(dateTime, v.description("When it was judged")),
});

export type CurrentStep = v.InferOutput<typeof CurrentStepSchema>;

export const RolloutSchema = v.object({
  name: v.string(),
  version: v.string(),
  state: v.pipe(v.picklist(ROLLOUT_STATES), v.description("running, or how it ended")),
  steps: v.array(v.number()),
  stepMinutes: v.number(),
  promote: v.boolean(),
  step: v.pipe(v.number(), v.description("Index into steps of the step in effect (or reached)")),
  percent: v.pipe(v.number(), v.description("The canary share in effect while running")),
  since: v.pipe(dateTime, v.description("When the current step started")),
  stepEndsAt: v.pipe(dateTime, v.description("When the current step has lasted stepMinutes")),
  startedAt: dateTime,
  endedAt: v.nullable(dateTime),
  results: v.pipe(v.array(StepResultSchema), v.description("The verdict of every step the cron decided")),
  current: v.pipe(
    v.nullable(CurrentStepSchema),
    v.description("While running, the verdict over the current step so far, before the cron acts on it; else null"),
  ),
  reasons: v.pipe(v.array(v.string()), v.description("Why it ended")),
  nextAction: v.string(),
  warning: v.optional(
    v.pipe(v.string(), v.description("On a start only: the gate was overridden (force), and over what")),
  ),
});

export type RolloutView = v.InferOutput<typeof RolloutSchema>;

export const RolloutListSchema = v.object({ rollouts: v.array(RolloutSchema) });

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
};

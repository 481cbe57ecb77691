import * as v from "valibot";
import type { ExchangeSample } from "../../evidence/batch.ts";
import { differencePath } from "../../evidence/policy-fields.ts";
import type { EvidenceReport, ReportSeries, ShadowReport } from "../../evidence/verdict.ts";
import { reportWindow } from "../../registry/validation.ts";
import { reportBaseline } from "../replay-schemas.ts";
import { count, DIFF_KINDS, dateTime, latency, rate, VERDICTS } from "./common.ts";

// Evidence, as the ledger reports it.
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
    routes: v.pipe(
      v.array(v.object({ route: v.string(), sampled: count })),
      v.description("Twin copies (main against itself) per route: method and path, identifier segments folded to *"),
    ),
    fields: v.pipe(
      v.array(v.object({ route: v.string(), path: v.string(), kind: v.picklist(DIFF_KINDS), rate })),
      v.description("Main's own differences per route; each rate is over that route's twin copies"),
    ),
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
      reportBaseline,
      v.description(
        "Read the evidence against an older main (a version that was main): every version compared with it over the window; or a replay's (`replay:<id>`), over its whole run. 404 when none was kept",
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
const DIFFS_DEFAULT_LIMIT = 10;

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

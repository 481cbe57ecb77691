import * as v from "valibot";
import { mirrorMethods, serviceName, serviceVersion } from "../registry/validation.ts";
import { REPLAY_RATE, REPLAY_STATES, type ReplayView } from "../replay/record.ts";
import { CaptureSettingsSchema } from "./capture-schemas.ts";

// Captures and replays: each message completes a sentence that starts with the field's name.

const REPLAY_ID = /^[0-9a-f]{12}$/;
const replayId = v.pipe(v.string("must be a string"), v.regex(REPLAY_ID, "must be a replay id: 12 hex digits"));

/** `?baseline=` of the report: an older main, or a replay's own evidence. */
export const reportBaseline = v.union(
  [serviceVersion, v.pipe(v.string(), v.regex(/^replay:[0-9a-f]{12}$/))],
  "must be a version that was main (such as 1.0.0), or a replay's baseline (replay:<id>)",
);

export const ReplayParamSchema = v.object({ name: serviceName, version: serviceVersion, id: replayId });
export const NameReplayParamSchema = v.object({ name: serviceName, id: replayId });

const dateTimeText = v.pipe(
  v.string("must be a date-time such as 2026-12-06T10:00:00Z"),
  v.check((text) => !Number.isNaN(Date.parse(text)), "must be a date-time such as 2026-12-06T10:00:00Z"),
);

const RATE_RANGE = `must be a whole number of requests a second from 1 to ${REPLAY_RATE.max}`;

export const ReplayBodySchema = v.object(
  {
    from: v.pipe(
      dateTimeText,
      v.description("Start of the captured window"),
      v.metadata({ examples: ["2026-12-06T09:00:00Z"] }),
    ),
    to: v.optional(v.pipe(dateTimeText, v.description("End of the captured window (default now)"))),
    rate: v.optional(
      v.pipe(
        v.number(RATE_RANGE),
        v.integer(RATE_RANGE),
        v.minValue(1, RATE_RANGE),
        v.maxValue(REPLAY_RATE.max, RATE_RANGE),
        v.description(`Requests sent a second, evenly spread (default ${REPLAY_RATE.default})`),
      ),
      REPLAY_RATE.default,
    ),
    methods: v.optional(
      v.pipe(
        mirrorMethods,
        v.description(
          "Methods replayed (default GET, HEAD, OPTIONS: an origin may see those twice); naming others replays writes, which an origin sharing main's database would do again; null for every method",
        ),
      ),
    ),
  },
  "must be a JSON object",
);

const dateTime = v.pipe(v.string(), v.description("ISO 8601"));

export const ReplaySchema = v.object({
  id: v.string(),
  name: v.string(),
  version: v.string(),
  state: v.pipe(v.picklist(REPLAY_STATES), v.description("running, or how it ended")),
  sent: v.pipe(v.number(), v.description("Requests sent so far (each at most once)")),
  total: v.pipe(v.number(), v.description("Captured requests of the window that it replays")),
  from: dateTime,
  to: dateTime,
  rate: v.number(),
  methods: v.pipe(v.nullable(v.array(v.string())), v.description("Methods replayed; null for every method")),
  verdict: v.object({
    outcome: v.picklist(["pass", "fail", "inconclusive"]),
    reasons: v.array(v.string()),
  }),
  reasons: v.pipe(v.array(v.string()), v.description("The verdict's reasons")),
  requests: v.object({ compared: v.number(), different: v.number(), error: v.number() }),
  createdAt: dateTime,
  endedAt: v.nullable(dateTime),
  stoppedBecause: v.nullable(v.string()),
  baseline: v.pipe(v.string(), v.description("The report's `?baseline=` for the whole evidence: replay:<id>")),
}) satisfies v.GenericSchema<ReplayView>;

export const ReplayListSchema = v.object({ replays: v.pipe(v.array(ReplaySchema), v.description("Newest first")) });

export const CapturesSchema = v.object({
  name: v.string(),
  capture: v.pipe(CaptureSettingsSchema, v.description("The policy's capture; null when off")),
  maxBytesPerHour: v.pipe(v.number(), v.description("Bytes kept per hour at most (CAPTURE_MAX_BYTES_PER_HOUR)")),
  windows: v.pipe(
    v.array(
      v.object({
        from: dateTime,
        to: dateTime,
        requests: v.number(),
        bytes: v.number(),
        dropped: v.pipe(v.number(), v.description("Captures not kept: over the hour's bytes, or lost on the way")),
      }),
    ),
    v.description("Each hour that holds captures, oldest first"),
  ),
  total: v.object({ requests: v.number(), bytes: v.number(), dropped: v.number() }),
});

export type CapturesView = v.InferOutput<typeof CapturesSchema>;

import * as v from "valibot";
import {
  CAPTURE_DEFAULTS,
  CAPTURE_MAX_BODY_BYTES,
  CAPTURE_MAX_RETENTION_HOURS,
  type CaptureSettings,
} from "../evidence/capture-settings.ts";
import { mirrorMethods, mirrorPercent } from "../registry/validation.ts";

// The policy's `capture`: each message completes a sentence that starts with the field's name.

const integerIn = (min: number, max: number, what: string) => {
  const range = `must be a whole number from ${min} to ${max}`;
  return v.pipe(v.number(range), v.integer(range), v.minValue(min, range), v.maxValue(max, range), v.description(what));
};

/** `capture` in a policy change: an object (its unset fields take the defaults), or null to stop capturing. */
export const captureChange = v.nullable(
  v.object(
    {
      percent: v.pipe(mirrorPercent, v.description("Share of the name's requests captured, 0–100 (two decimals)")),
      methods: v.optional(
        v.pipe(mirrorMethods, v.description("Methods captured (default GET and HEAD); null for every method")),
        () => [...CAPTURE_DEFAULTS.methods],
      ),
      maxBodyBytes: v.optional(
        integerIn(
          0,
          CAPTURE_MAX_BODY_BYTES,
          "Largest request body and part of main's answer kept per request (default 65536); a request whose body is longer is kept but never replayed",
        ),
        CAPTURE_DEFAULTS.maxBodyBytes,
      ),
      retentionHours: v.optional(
        integerIn(1, CAPTURE_MAX_RETENTION_HOURS, "Captures older than this many hours are deleted (default 24)"),
        CAPTURE_DEFAULTS.retentionHours,
      ),
    },
    "must be an object with percent (and optionally methods, maxBodyBytes, retentionHours), or null",
  ),
);

/** `capture` as the policy shows it. */
export const CaptureSettingsSchema = v.pipe(
  v.nullable(
    v.object({
      percent: v.number(),
      methods: v.nullable(v.array(v.string())),
      maxBodyBytes: v.number(),
      retentionHours: v.number(),
    }) satisfies v.GenericSchema<CaptureSettings>,
  ),
  v.description(
    "Traffic kept for replays, redacted like samples: the share and methods of requests, bytes kept per body, hours kept; null when off",
  ),
);

import * as v from "valibot";
import type { PolicyResult } from "../../coordinator/results.ts";
import { IGNORE_MAX } from "../../evidence/policy-change.ts";
import { differencePath, headerName, redactPath } from "../../evidence/policy-fields.ts";
import { NOTIFY_EVENTS, notifyEvents, notifyUrl } from "../../notify/target.ts";
import { CaptureSettingsSchema, captureChange } from "../capture-schemas.ts";
import { FieldRuleSchema, fieldRules, rulePath } from "../rule-schemas.ts";
import { BODY_MUST_BE_OBJECT, distinct } from "./common.ts";

// A name's evidence policy: what counts as a difference, what is redacted, the gate and notifications.

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
  capture: CaptureSettingsSchema,
  notify: v.pipe(
    v.nullable(v.object({ url: v.string(), events: v.array(v.picklist(NOTIFY_EVENTS)) })),
    v.description(
      "Where changes of the name are POSTed as JSON events, and which; null for nowhere. The URL is write-only: shown by scheme and host only (`https://hooks.slack.com/…`)",
    ),
  ),
}) satisfies v.GenericSchema<PolicyResult>;

const HEADERS_MAX = 20;
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
    capture: v.optional(captureChange),
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
            "Replaces where events go: `url` is https: (or http: to loopback), `events` from verdict, assign, kill, rollout, replay (default all); without `url` the stored URL is kept and only the events change; null stops them",
          ),
        ),
      ),
    ),
  },
  BODY_MUST_BE_OBJECT,
);

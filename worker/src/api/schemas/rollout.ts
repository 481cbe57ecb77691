import * as v from "valibot";
import { type CurrentStep, ROLLOUT_STATES, type RolloutView } from "../../registry/rollout-records.ts";
import { BODY_MUST_BE_OBJECT, dateTime, VERDICTS } from "./common.ts";

// Progressive delivery: a rollout raises a shadow's canary share step by step while its verdict passes.

const ROLLOUT_STEPS_MAX = 10;
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
}) satisfies v.GenericSchema<CurrentStep>;

export type { CurrentStep, RolloutView } from "../../registry/rollout-records.ts";

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
}) satisfies v.GenericSchema<RolloutView>;

export const RolloutListSchema = v.object({ rollouts: v.array(RolloutSchema) });

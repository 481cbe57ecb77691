import * as v from "valibot";
import { type FieldRule, RULE_MATCHES, RULES_MAX, ruleSegments } from "../evidence/field-rules.ts";
import { NAMED_FORMATS, patternProblem } from "../evidence/formats.ts";
import { DIFFERENCE_PATH_MAX_LENGTH } from "../evidence/policy-fields.ts";

// Field rules in a policy: each message completes a sentence that starts with the field's name
// (`rules.2.rel must be a number of at least 0`).

const RULE_PATH_SHAPE =
  "must be a body field path such as body.price or body.items[].id, with * for any key (body.byId.*.price)";

export const rulePath = v.pipe(
  v.string("must be a string"),
  v.maxLength(DIFFERENCE_PATH_MAX_LENGTH, `must be at most ${DIFFERENCE_PATH_MAX_LENGTH} characters`),
  v.check((path) => ruleSegments(path) !== undefined, RULE_PATH_SHAPE),
);

const AT_LEAST_ZERO = "must be a number of at least 0";
const tolerance = (what: string) =>
  v.optional(
    v.pipe(v.number(AT_LEAST_ZERO), v.minValue(0, AT_LEAST_ZERO), v.finite(AT_LEAST_ZERO), v.description(what)),
  );

const format = v.pipe(
  v.string("must be a string"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || (NAMED_FORMATS as readonly string[]).includes(dataset.value)) return;
    const problem = patternProblem(dataset.value);
    if (problem) addIssue({ message: problem });
  }),
  v.description(
    `${NAMED_FORMATS.join(", ")}, or a regular expression (at most 200 characters, tried on values of at most 256)`,
  ),
);

const numberRule = v.pipe(
  v.object({
    path: rulePath,
    match: v.literal("number"),
    abs: tolerance("Values at most this far apart are the same"),
    rel: tolerance("Values apart by at most this fraction of the larger one are the same (1e-6)"),
  }),
  v.check((rule) => rule.abs !== undefined || rule.rel !== undefined, "must give abs or rel (or both)"),
);

const unorderedRule = v.object({
  path: rulePath,
  match: v.literal("unordered"),
  key: v.optional(
    v.pipe(
      v.string("must be a string"),
      v.minLength(1, "must not be empty"),
      v.maxLength(128, "must be at most 128 characters"),
      v.description("The field that identifies an element (id); without it elements are matched by equality"),
    ),
  ),
});

const presentRule = v.object({ path: rulePath, match: v.literal("present") });
const formatRule = v.object({ path: rulePath, match: v.literal("format"), format });

const fieldRule = v.variant(
  "match",
  [numberRule, unorderedRule, presentRule, formatRule],
  `must be ${RULE_MATCHES.slice(0, -1).join(", ")} or ${RULE_MATCHES.at(-1)}`,
);

const onePerPath = v.rawCheck<FieldRule[]>(({ dataset, addIssue }) => {
  if (!dataset.typed) return;
  const seen = new Set<string>();
  for (const rule of dataset.value) {
    if (seen.has(rule.path)) addIssue({ message: `must not have two rules for ${rule.path}` });
    seen.add(rule.path);
  }
});

export const fieldRules = v.pipe(
  v.array(fieldRule, "must be a list of field rules"),
  v.maxLength(RULES_MAX, `must have at most ${RULES_MAX} rules`),
  onePerPath,
);

/** The rules as the policy shows them. */
export const FieldRuleSchema = v.variant("match", [
  v.object({ path: v.string(), match: v.literal("number"), abs: v.optional(v.number()), rel: v.optional(v.number()) }),
  v.object({ path: v.string(), match: v.literal("unordered"), key: v.optional(v.string()) }),
  v.object({ path: v.string(), match: v.literal("present") }),
  v.object({ path: v.string(), match: v.literal("format"), format: v.string() }),
]) satisfies v.GenericSchema<FieldRule>;

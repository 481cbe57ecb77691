import { AppError } from "../errors.ts";
import { type FieldRule, RULES_MAX } from "./field-rules.ts";
import { defaultPolicy, type PolicyOverrides } from "./verdict.ts";

/** The longest ignore (or redact) list a name may have, whether it is replaced or edited. */
export const IGNORE_MAX = 200;

/**
 * A change to a name's evidence policy: given fields replace the stored ones, gate thresholds one by one, and
 * `ignoreAdd`/`ignoreRemove` and `redactAdd`/`redactRemove` edit the stored ignore and redact lists path by path.
 */
export type EvidencePolicyChange = PolicyOverrides & {
  ignoreAdd?: string[];
  ignoreRemove?: string[];
  redactAdd?: string[];
  redactRemove?: string[];
  /** Adds rules, replacing a stored rule for the same path. */
  rulesAdd?: FieldRule[];
  /** Removes the rules for these paths. */
  rulesRemove?: string[];
};

/** The policy's lists that may be edited path by path as well as replaced whole. */
type EditableList = "ignore" | "redact";

/**
 * A policy change applied to what is stored: given fields replace the stored ones, gate thresholds
 * one by one, and `ignoreAdd`/`ignoreRemove` (`redactAdd`/`redactRemove`) edit the stored ignore
 * (redact) list path by path. The coordinator applies it inside its serialised step, so two operators
 * who each ignore a path at once both keep theirs: an edit names what changes, never a whole list read earlier.
 */
export function applyPolicyChange(stored: PolicyOverrides, changes: EvidencePolicyChange): PolicyOverrides {
  const { gate, ignoreAdd, ignoreRemove, redactAdd, redactRemove, rulesAdd, rulesRemove, ...replaced } = changes;
  const merged: PolicyOverrides = { ...stored, ...replaced };
  if (gate !== undefined) merged.gate = { ...stored.gate, ...gate };
  const ignore = editList("ignore", stored, replaced, ignoreAdd, ignoreRemove);
  if (ignore !== undefined) merged.ignore = ignore;
  const redact = editList("redact", stored, replaced, redactAdd, redactRemove);
  if (redact !== undefined) merged.redact = redact;
  const rules = editRules(stored, replaced, rulesAdd, rulesRemove);
  if (rules !== undefined) merged.rules = rules;
  return merged;
}

/** The stored rules without those for `remove`'s paths and `add`'s, then `add`; undefined when neither is given. */
function editRules(
  stored: PolicyOverrides,
  replaced: PolicyOverrides,
  add: FieldRule[] | undefined,
  remove: string[] | undefined,
): FieldRule[] | undefined {
  if (add === undefined && remove === undefined) return undefined;
  if (replaced.rules !== undefined) {
    throw new AppError(
      422,
      "invalid_field",
      "body must not set rules together with rulesAdd or rulesRemove: rules replaces the whole list, the others edit it",
      "rules",
    );
  }
  const both = (add ?? []).find((rule) => remove?.includes(rule.path));
  if (both !== undefined) {
    throw new AppError(
      422,
      "invalid_field",
      `rulesRemove must not name ${both.path}, which rulesAdd sets`,
      "rulesRemove",
    );
  }
  const replacedPaths = new Set([...(remove ?? []), ...(add ?? []).map((rule) => rule.path)]);
  const edited = [...(stored.rules ?? []).filter((rule) => !replacedPaths.has(rule.path)), ...(add ?? [])];
  if (edited.length > RULES_MAX) {
    throw new AppError(
      422,
      "invalid_field",
      `rulesAdd would make the policy ${edited.length} rules long, more than the ${RULES_MAX} allowed`,
      "rulesAdd",
    );
  }
  return edited;
}

/** The stored list with `add` and `remove` applied, in order; undefined when neither is given. */
function editList(
  list: EditableList,
  stored: PolicyOverrides,
  replaced: PolicyOverrides,
  add: string[] | undefined,
  remove: string[] | undefined,
): string[] | undefined {
  if (add === undefined && remove === undefined) return undefined;
  const [addField, removeField] = [`${list}Add`, `${list}Remove`];
  if (replaced[list] !== undefined) {
    throw new AppError(
      422,
      "invalid_field",
      `body must not set ${list} together with ${addField} or ${removeField}: ${list} replaces the whole list, the others edit it`,
      list,
    );
  }
  const both = (add ?? []).find((path) => remove?.includes(path));
  if (both !== undefined) {
    throw new AppError(
      422,
      "invalid_field",
      `${removeField} must not name ${both}, which ${addField} adds`,
      removeField,
    );
  }
  const current = stored[list] ?? defaultPolicy[list] ?? [];
  const kept = current.filter((path) => !remove?.includes(path));
  const edited = [...kept, ...(add ?? []).filter((path) => !kept.includes(path))];
  if (edited.length > IGNORE_MAX) {
    throw new AppError(
      422,
      "invalid_field",
      `${addField} would make the ${list} list ${edited.length} paths long, more than the ${IGNORE_MAX} allowed`,
      addField,
    );
  }
  return edited;
}

import { AppError } from "../errors.ts";
import type { PolicyChange } from "../registry/records.ts";
import { defaultPolicy, type PolicyOverrides } from "./verdict.ts";

/** The longest ignore list a name may have, whether it is replaced or edited. */
export const IGNORE_MAX = 200;

/**
 * A policy change applied to what is stored: given fields replace the stored ones, gate thresholds
 * one by one, and `ignoreAdd`/`ignoreRemove` edit the stored ignore list path by path. The coordinator
 * applies it inside its serialised step, so two operators who each ignore a path at once both keep
 * theirs: an edit names what changes, never a whole list read earlier.
 */
export function applyPolicyChange(stored: PolicyOverrides, changes: PolicyChange): PolicyOverrides {
  const { gate, ignoreAdd, ignoreRemove, ...replaced } = changes;
  const edits = ignoreAdd !== undefined || ignoreRemove !== undefined;
  if (edits && replaced.ignore !== undefined) {
    throw new AppError(
      422,
      "invalid_field",
      "body must not set ignore together with ignoreAdd or ignoreRemove: ignore replaces the whole list, the others edit it",
      "ignore",
    );
  }
  const both = (ignoreAdd ?? []).find((path) => ignoreRemove?.includes(path));
  if (both !== undefined) {
    throw new AppError(
      422,
      "invalid_field",
      `ignoreRemove must not name ${both}, which ignoreAdd adds`,
      "ignoreRemove",
    );
  }
  const merged: PolicyOverrides = { ...stored, ...replaced };
  if (gate !== undefined) merged.gate = { ...stored.gate, ...gate };
  if (edits) {
    const current = stored.ignore ?? defaultPolicy.ignore;
    const kept = current.filter((path) => !ignoreRemove?.includes(path));
    const ignore = [...kept, ...(ignoreAdd ?? []).filter((path) => !kept.includes(path))];
    if (ignore.length > IGNORE_MAX) {
      throw new AppError(
        422,
        "invalid_field",
        `ignoreAdd would make the ignore list ${ignore.length} paths long, more than the ${IGNORE_MAX} allowed`,
        "ignoreAdd",
      );
    }
    merged.ignore = ignore;
  }
  return merged;
}

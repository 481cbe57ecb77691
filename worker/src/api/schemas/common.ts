import * as v from "valibot";
import type { DiffKind } from "../../evidence/compare.ts";
import type { Verdict } from "../../evidence/verdict.ts";

// Pieces every schema of the API is built from.
// Each message completes a sentence that starts with the field's name.

export const dateTime = v.pipe(v.string(), v.metadata({ format: "date-time" }));

export const VERDICTS = ["pass", "fail", "inconclusive"] as const satisfies readonly Verdict[];
export const DIFF_KINDS = [
  "value",
  "type",
  "missing",
  "extra",
  "length",
  "many",
  "bytes",
] as const satisfies readonly DiffKind[];
export const count = v.pipe(v.number(), v.integer());
export const rate = v.pipe(v.number(), v.description("A fraction of compared requests, 0–1"));
export const latency = v.object({ p50: v.number(), p95: v.number(), p99: v.number() });

export const BODY_MUST_BE_OBJECT = "must be a JSON object";
export const distinct = (items: string[]) => new Set(items).size === items.length;

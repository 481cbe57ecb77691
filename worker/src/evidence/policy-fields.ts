import * as v from "valibot";
import { HEADER_NAME_PATTERN, isDifferencePath } from "./paths.ts";

// The fields of an evidence policy, as the admin API validates them: the paths a difference can have,
// compared headers and redacted fields. The path grammar is the comparison's own (paths.ts).
// Each message completes a sentence that starts with the field's name.
const MUST_BE_STRING = "must be a string";

export const DIFFERENCE_PATH_MAX_LENGTH = 256;
const DIFFERENCE_PATH_SHAPE =
  "must be a difference path: status, header.<lower-case name>, body, or body.<json path> with [] for array indexes and * for identifier keys";

export const differencePath = v.pipe(
  v.string(MUST_BE_STRING),
  v.maxLength(DIFFERENCE_PATH_MAX_LENGTH, `must be at most ${DIFFERENCE_PATH_MAX_LENGTH} characters`),
  v.check(isDifferencePath, DIFFERENCE_PATH_SHAPE),
);

export const headerName = v.pipe(
  v.string(MUST_BE_STRING),
  v.minLength(1, "must not be empty"),
  v.maxLength(128, "must be at most 128 characters"),
  v.regex(HEADER_NAME_PATTERN, "must be a lower-case header name such as etag or cache-control"),
);

const QUERY_PARAM_PATH = /^query\.[\x21-\x7e]{1,128}$/;

/** A sample field to redact: `query.<parameter>` or `body.<json path>` (as difference paths write it). */
export const isRedactPath = (path: string): boolean =>
  QUERY_PARAM_PATH.test(path) || (path.startsWith("body.") && isDifferencePath(path));

export const redactPath = v.pipe(
  v.string(MUST_BE_STRING),
  v.maxLength(DIFFERENCE_PATH_MAX_LENGTH, `must be at most ${DIFFERENCE_PATH_MAX_LENGTH} characters`),
  v.check(isRedactPath, "must be query.<parameter> or body.<json path>, such as query.user or body.email"),
);

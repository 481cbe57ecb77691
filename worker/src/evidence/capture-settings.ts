/**
 * What a name's policy says about capturing its traffic for replay (`capture`): off unless set.
 * Validated by the API (api/capture-schemas.ts); used by the proxy (capture/) and replays.
 */
export interface CaptureSettings {
  /** Share of requests to the name captured, 0–100 (two decimals). */
  percent: number;
  /** Methods captured, upper-case; null for every method. */
  methods: string[] | null;
  /** Largest request body, and largest part of main's answer, kept per request. */
  maxBodyBytes: number;
  /** Captures older than this are deleted. */
  retentionHours: number;
}

export const CAPTURE_DEFAULTS = {
  methods: ["GET", "HEAD"],
  maxBodyBytes: 65_536,
  retentionHours: 24,
} as const satisfies Omit<CaptureSettings, "percent">;

export const CAPTURE_MAX_BODY_BYTES = 1_048_576;
export const CAPTURE_MAX_RETENTION_HOURS = 168;

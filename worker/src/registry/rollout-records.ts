// A rollout's records: the stored row, what a call changed of it, and how the admin API shows it.

export const ROLLOUT_STATES = ["running", "promoted", "completed", "aborted"] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

/** What the cron concluded when a step ended: its verdict, and why. */
export interface RolloutStepResult {
  percent: number;
  verdict: "pass" | "fail" | "inconclusive";
  reasons: string[];
  at: string;
}

/**
 * A name's rollout: one version's canary share raised step by step while its verdict passes.
 * One per name (the latest rollout); only the ServiceCoordinator writes it.
 */
export interface RolloutRow {
  name: string;
  version: string;
  steps: number[];
  stepMinutes: number;
  promote: boolean;
  state: RolloutState;
  /** Index into `steps` of the share in effect. */
  step: number;
  stepSince: Date;
  startedAt: Date;
  /** The verdict of every step that ended, in order. */
  results: RolloutStepResult[];
  /** Why it ended, when it did. */
  reasons: string[];
  endedAt: Date | null;
}

/** A rollout after a call, and what that call changed of it (`null`: nothing). */
export interface RolloutChange {
  rollout: RolloutRow;
  change: "started" | "advanced" | "aborted" | "promoted" | "completed" | null;
  /** Started through the gate anyway: forced over a failing verdict, or over evidence that could not be read. */
  warning?: string;
}

/** The verdict over a running rollout's current step so far, before the cron acts on it. */
export interface CurrentStep {
  percent: number;
  /** null when the evidence could not be read (the cron waits). */
  verdict: RolloutStepResult["verdict"] | null;
  reasons: string[];
  since: string;
  at: string;
}

/** A rollout as the admin API shows it. */
export interface RolloutView {
  name: string;
  version: string;
  state: RolloutState;
  steps: number[];
  stepMinutes: number;
  promote: boolean;
  step: number;
  percent: number;
  since: string;
  stepEndsAt: string;
  startedAt: string;
  endedAt: string | null;
  results: RolloutStepResult[];
  current: CurrentStep | null;
  reasons: string[];
  nextAction: string;
  warning?: string;
}

import type { EvidencePolicy, Verdict } from "../evidence/verdict.ts";
import type { Actor } from "../registry/records.ts";

export const REPLAY_STATES = ["running", "done", "stopped"] as const;
type ReplayState = (typeof REPLAY_STATES)[number];

/** Requests per second a replay may ask for, and what it gets when it asks for none. */
export const REPLAY_RATE = { default: 20, max: 100 } as const;
/** Methods replayed unless the request names others: those an origin may see twice without harm. */
export const SAFE_METHODS = ["GET", "HEAD", "OPTIONS"] as const;

/** What starts a replay: the captured window to send, how fast, and the policy to judge it by. */
export interface ReplayStart {
  id: string;
  name: string;
  version: string;
  /** The captured window, ms since the epoch. */
  from: number;
  to: number;
  rate: number;
  /** null: every method (the operator named no list). */
  methods: string[] | null;
  policy: EvidencePolicy;
  actor: Actor;
}

/** What a replay runner keeps of its replay: how it started, and how far it got. */
export interface ReplayRecord extends ReplayStart {
  state: ReplayState;
  /** Requests taken from the queue (sent, or lost to a restart mid-send: never sent again). */
  sent: number;
  total: number;
  createdAt: number;
  endedAt: number | null;
  /** Why it stopped, when it did not run to its end. */
  stoppedBecause: string | null;
}

/** The evidence of a replay lives in a ledger of its own, apart from the name's live evidence and noise. */
export const replayLedgerName = (name: string, id: string): string => `${name}#replay:${id}`;

/** The baseline a replay's evidence is kept under, as the report's `?baseline=` names it. */
export const replayBaseline = (id: string): string => `replay:${id}`;

/** A replay as the API, the CLI and the dashboard show it. */
export interface ReplayView {
  id: string;
  name: string;
  version: string;
  state: ReplayState;
  sent: number;
  total: number;
  from: string;
  to: string;
  rate: number;
  methods: string[] | null;
  verdict: { outcome: Verdict; reasons: string[] };
  /** The verdict's reasons again, beside `state` as `GET …/replays/:id` has always shown them. */
  reasons: string[];
  /** Of the requests sent: compared with main's captured answer, differing, failed. */
  requests: { compared: number; different: number; error: number };
  createdAt: string;
  endedAt: string | null;
  stoppedBecause: string | null;
  /** Where the whole evidence is: the report's `?baseline=`. */
  baseline: string;
}

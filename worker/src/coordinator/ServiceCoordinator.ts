import { DurableObject } from "cloudflare:workers";
import { openDatabase } from "../db/queries.ts";
import type { Env } from "../env.ts";
import type { Verdict } from "../evidence/verdict.ts";
import { announceRolloutChange } from "../notify/rollout-announce.ts";
import type { Actor, ServiceRecord } from "../registry/records.ts";
import type { RolloutSpec } from "../registry/rollout.ts";
import type { NameContext } from "./context.ts";
import {
  assign,
  type DeployInput,
  deploy,
  kill,
  setPolicy,
  setTrafficControls,
  type TrafficControls,
} from "./name-changes.ts";
import { type Outcome, SerialQueue } from "./outcome.ts";
import type { AssignResult, PolicyChange, PolicyResult } from "./results.ts";
import type { RolloutChange } from "./rollout-audit.ts";
import { abortRollout, startRollout, tickRollout, watchRollout } from "./rollout-changes.ts";
import {
  countNotifications,
  type NotificationCounts,
  noteVerdicts,
  notificationCounts,
  type VerdictChange,
} from "./verdict-memory.ts";

export { GATE_WINDOW } from "../registry/rules.ts";
export type { DeployInput, TrafficControls } from "./name-changes.ts";
export type { Outcome } from "./outcome.ts";
export type { RolloutChange } from "./rollout-audit.ts";
export type { NotificationCounts, VerdictChange } from "./verdict-memory.ts";

/**
 * One instance per service name. Every change of that name runs here, one at
 * a time (see SerialQueue): read the name's versions from D1, decide with a
 * pure rule, write. The changes themselves live in name-changes.ts and
 * rollout-changes.ts; this class is their RPC surface and their queue.
 */
export class ServiceCoordinator extends DurableObject<Env> {
  readonly #queue = new SerialQueue();
  readonly #db = openDatabase(this.env.DB);

  /** Read at each call, so the bindings are always the object's own `env`. */
  get #cx(): NameContext {
    return { env: this.env, db: this.#db, kv: this.ctx.storage.kv };
  }

  deploy(input: DeployInput, actor: Actor): Promise<Outcome<ServiceRecord>> {
    return this.#queue.run(() => deploy(this.#cx, input, actor));
  }

  assign(name: string, version: string, force: boolean, actor: Actor): Promise<Outcome<AssignResult>> {
    return this.#queue.run(() => assign(this.#cx, name, version, force, actor));
  }

  kill(name: string, version: string | undefined, actor: Actor): Promise<Outcome<ServiceRecord[]>> {
    return this.#queue.run(() => kill(this.#cx, name, version, actor));
  }

  setTrafficControls(
    name: string,
    version: string,
    changes: TrafficControls,
    actor: Actor,
  ): Promise<Outcome<ServiceRecord>> {
    return this.#queue.run(() => setTrafficControls(this.#cx, name, version, changes, actor));
  }

  setPolicy(name: string, changes: PolicyChange, actor: Actor): Promise<Outcome<PolicyResult>> {
    return this.#queue.run(() => setPolicy(this.#cx, name, changes, actor));
  }

  startRollout(name: string, version: string, spec: RolloutSpec, actor: Actor): Promise<Outcome<RolloutChange>> {
    return this.#queue.run(() => startRollout(this.#cx, name, version, spec, actor));
  }

  abortRollout(name: string, reason: string, actor: Actor): Promise<Outcome<RolloutChange>> {
    return this.#queue.run(() => abortRollout(this.#cx, name, reason, actor));
  }

  tickRollout(name: string, cronMs: number): Promise<Outcome<RolloutChange | null>> {
    return this.#queue.run(() => tickRollout(this.#cx, name, cronMs));
  }

  /**
   * Called by the name's ledger between crons (see RolloutWatch): judges the version's running rollout,
   * aborts a step that fails and tells the name's notification target; answers whether it still runs.
   */
  async watchRollout(name: string, version: string): Promise<Outcome<{ running: boolean; change?: RolloutChange }>> {
    const outcome = await this.#queue.run(() => watchRollout(this.#cx, name, version));
    if (outcome.ok && outcome.value.change) await announceRolloutChange(this.env, name, outcome.value.change);
    return outcome;
  }

  noteVerdicts(verdicts: { version: string; verdict: Verdict }[]): VerdictChange[] {
    return noteVerdicts(this.ctx.storage.kv, verdicts);
  }

  countNotifications(delivered: number, failed: number): NotificationCounts {
    return countNotifications(this.ctx.storage.kv, delivered, failed);
  }

  notificationCounts(): NotificationCounts {
    return notificationCounts(this.ctx.storage.kv);
  }
}

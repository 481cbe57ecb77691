import { DurableObject } from "cloudflare:workers";
import type { AssignResult, ServiceRecord } from "../api/schemas.ts";
import {
  deleteName,
  deleteVersion,
  insertVersion,
  listServices,
  openDatabase,
  setMain,
  toRecord,
} from "../db/queries.ts";
import type { Env } from "../env.ts";
import { AppError, type ErrorBody } from "../errors.ts";
import { decideAssign, decideDeploy, decideKillName, decideKillVersion } from "../registry/rules.ts";

/** Errors lose their class across RPC, so the coordinator answers with plain data. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; status: AppError["status"]; body: ErrorBody };

export type DeployInput = Pick<ServiceRecord, "name" | "version" | "origin" | "status">;

/**
 * One instance per service name. Every change of that name runs here, one at
 * a time: read the name's versions from D1, decide with a pure rule, write.
 * Input gates stay open while D1 is awaited, so the queue below is what keeps
 * two changes from deciding on the same stale read.
 */
export class ServiceCoordinator extends DurableObject<Env> {
  #tail: Promise<unknown> = Promise.resolve();
  readonly #db = openDatabase(this.env.DB);

  deploy(input: DeployInput): Promise<Outcome<ServiceRecord>> {
    return this.#serialised(async () => {
      const existing = await listServices(this.#db, input.name);
      const { main } = decideDeploy(existing, input.name, input.version);
      const row = await insertVersion(this.#db, { ...input, main, now: new Date() });
      return toRecord(row);
    });
  }

  assign(name: string, version: string): Promise<Outcome<AssignResult>> {
    return this.#serialised(async () => {
      const existing = await listServices(this.#db, name);
      const decision = decideAssign(existing, name, version);
      if (!decision.change) return { changed: false, services: existing.map(toRecord) };
      await setMain(this.#db, name, version);
      return { changed: true, services: (await listServices(this.#db, name)).map(toRecord) };
    });
  }

  /** Kills one version, or every version of the name when `version` is omitted. */
  kill(name: string, version?: string): Promise<Outcome<ServiceRecord[]>> {
    return this.#serialised(async () => {
      const existing = await listServices(this.#db, name);
      if (version === undefined) {
        decideKillName(existing, name);
        return (await deleteName(this.#db, name)).map(toRecord);
      }
      decideKillVersion(existing, name, version);
      return (await deleteVersion(this.#db, name, version)).map(toRecord);
    });
  }

  #serialised<T>(operation: () => Promise<T>): Promise<Outcome<T>> {
    const run = this.#tail.then(operation);
    this.#tail = run.catch(() => undefined);
    return run.then(
      (value): Outcome<T> => ({ ok: true, value }),
      (error: unknown): Outcome<T> => {
        if (error instanceof AppError) return { ok: false, status: error.status, body: error.toBody() };
        throw error;
      },
    );
  }
}

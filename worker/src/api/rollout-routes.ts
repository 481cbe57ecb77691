import { Hono } from "hono";
import { listRunningRollouts, listServices, openDatabase, readRollout } from "../db/queries.ts";
import type { AppEnv, Env } from "../env.ts";
import { AppError } from "../errors.ts";
import { rolloutEvent } from "../notify/events.ts";
import { notifyName } from "../notify/send.ts";
import type { Actor } from "../registry/records.ts";
import { findVersion, requireName } from "../registry/rules.ts";
import { rolloutView } from "../rollout/current-step.ts";
import { coordinate } from "./coordinate.ts";
import { describe } from "./openapi.ts";
import { NameParamSchema, RolloutBodySchema, RolloutListSchema, RolloutSchema, VersionParamSchema } from "./schemas.ts";
import { validate } from "./validate.ts";

// Progressive delivery: start, read and abort a version's rollout.

/** Aborts a name's running rollout by hand, and tells the name's notification target. */
async function abortRollout(env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }, name: string, actor: Actor) {
  const change = await coordinate(env, name, (co) => co.abortRollout(name, "aborted by hand", actor));
  ctx.waitUntil(notifyName(env, name, [rolloutEvent(change, new Date())]));
  return rolloutView(env, openDatabase(env.DB), change.rollout, new Date());
}

/** Every running rollout, first among the routes as the dashboard reads it first. */
export const rolloutListRoutes = new Hono<AppEnv>().get(
  "/rollouts",
  describe({
    summary: "Every running rollout: what the dashboard shows and sorts among the names needing attention",
    success: { status: 200, description: "The running rollouts", schema: RolloutListSchema },
  }),
  async (c) => {
    const now = new Date();
    const db = openDatabase(c.env.DB);
    const running = await listRunningRollouts(db);
    const rollouts = await Promise.all(running.map((rollout) => rolloutView(c.env, db, rollout, now)));
    return c.json({ rollouts }, 200);
  },
);

/** A version's or a name's rollout: start, read, abort. */
export const rolloutRoutes = new Hono<AppEnv>()
  .post(
    "/services/:name/:version/rollout",
    describe({
      summary: "Start a rollout: the version's canary share rises step by step while its verdict passes",
      success: { status: 201, description: "The rollout, at its first step", schema: RolloutSchema },
      errors: {
        404: "The name, or this version of it, is not deployed",
        409:
          "The name already has a rollout running, or the gate refuses the version: `gate_failed` (with " +
          "`error.reasons`) or `evidence_unavailable`; `force: true` overrides the gate",
        422: "A field is invalid, or the version is main; `error.field` names it",
      },
    }),
    validate("param", VersionParamSchema),
    validate("json", RolloutBodySchema),
    async (c) => {
      const { name, version } = c.req.valid("param");
      const spec = c.req.valid("json");
      const change = await coordinate(c.env, name, (co) => co.startRollout(name, version, spec, c.get("actor")));
      c.executionCtx.waitUntil(notifyName(c.env, name, [rolloutEvent(change, new Date())]));
      const view = await rolloutView(c.env, openDatabase(c.env.DB), change.rollout, new Date());
      return c.json({ ...view, ...(change.warning !== undefined && { warning: change.warning }) }, 201);
    },
  )
  .get(
    "/services/:name/:version/rollout",
    describe({
      summary: "The version's rollout: its step, since when, the verdict of each step, and what happens next",
      success: { status: 200, description: "The name's latest rollout, of this version", schema: RolloutSchema },
      errors: { 404: "The version is not deployed, or has no rollout" },
    }),
    validate("param", VersionParamSchema),
    async (c) => {
      const { name, version } = c.req.valid("param");
      const rollout = await readRollout(openDatabase(c.env.DB), name);
      if (rollout?.version !== version) {
        findVersion(await listServices(openDatabase(c.env.DB), name), name, version);
        throw new AppError(404, "rollout_not_found", `${name} ${version} has no rollout`);
      }
      return c.json(await rolloutView(c.env, openDatabase(c.env.DB), rollout, new Date()), 200);
    },
  )
  .delete(
    "/services/:name/:version/rollout",
    describe({
      summary: "Abort the version's running rollout: its canary share goes back to 0",
      success: { status: 200, description: "The aborted rollout", schema: RolloutSchema },
      errors: { 404: "The version has no running rollout" },
    }),
    validate("param", VersionParamSchema),
    async (c) => {
      const { name, version } = c.req.valid("param");
      const running = await readRollout(openDatabase(c.env.DB), name);
      if (running?.state !== "running" || running.version !== version) {
        throw new AppError(404, "rollout_not_found", `${name} ${version} has no running rollout`);
      }
      return c.json(await abortRollout(c.env, c.executionCtx, name, c.get("actor")), 200);
    },
  )
  .get(
    "/services/:name/rollout",
    describe({
      summary: "The name's latest rollout, whichever version it is of",
      success: { status: 200, description: "The rollout", schema: RolloutSchema },
      errors: { 404: "The name is not deployed, or has had no rollout" },
    }),
    validate("param", NameParamSchema),
    async (c) => {
      const { name } = c.req.valid("param");
      const rollout = await readRollout(openDatabase(c.env.DB), name);
      if (!rollout) {
        requireName(await listServices(openDatabase(c.env.DB), name), name);
        throw new AppError(404, "rollout_not_found", `${name} has had no rollout`);
      }
      return c.json(await rolloutView(c.env, openDatabase(c.env.DB), rollout, new Date()), 200);
    },
  )
  .delete(
    "/services/:name/rollout",
    describe({
      summary: "Abort the name's running rollout: its canary share goes back to 0",
      success: { status: 200, description: "The aborted rollout", schema: RolloutSchema },
      errors: { 404: "The name has no running rollout" },
    }),
    validate("param", NameParamSchema),
    async (c) => c.json(await abortRollout(c.env, c.executionCtx, c.req.valid("param").name, c.get("actor")), 200),
  );

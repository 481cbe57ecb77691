import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { listCaptures, listReplays, showReplay, startReplay, stopReplay } from "../replay/control.ts";
import { auditReplay } from "../replay/finish.ts";
import { describe } from "./openapi.ts";
import {
  CapturesSchema,
  NameReplayParamSchema,
  ReplayBodySchema,
  ReplayListSchema,
  ReplayParamSchema,
  ReplaySchema,
} from "./replay-schemas.ts";
import { NameParamSchema, VersionParamSchema } from "./schemas.ts";
import { validate } from "./validate.ts";

const NOT_DEPLOYED = "The name, or this version of it, is not deployed";

const describeShow = (scope: string) =>
  describe({
    summary: `A replay${scope}: its progress (sent of total), state and verdict with reasons`,
    success: { status: 200, description: "The replay", schema: ReplaySchema },
    errors: { 404: "The name is not deployed, or has no such replay" },
  });

const describeStop = (scope: string) =>
  describe({
    summary: `Stop a replay${scope}: nothing more is sent; one that already ended is shown as it ended`,
    success: { status: 200, description: "The replay, stopped", schema: ReplaySchema },
    errors: { 404: "The name is not deployed, or has no such replay" },
  });

/** Capture and replay (see docs/replay.md): what is kept of a name's traffic, and replays of it to one version. */
export const replayApi = new Hono<AppEnv>()
  .get(
    "/services/:name/captures",
    describe({
      summary: "What is kept of the name's traffic for replays: each hour's requests and bytes, and what was dropped",
      success: { status: 200, description: "The name's captures", schema: CapturesSchema },
      errors: { 404: "No version of this name is deployed" },
    }),
    validate("param", NameParamSchema),
    async (c) => c.json(await listCaptures(c.env, c.req.valid("param").name), 200),
  )
  .get(
    "/services/:name/replays",
    describe({
      summary: "The name's replays, newest first, with their progress and verdicts",
      success: { status: 200, description: "The replays", schema: ReplayListSchema },
      errors: { 404: "No version of this name is deployed" },
    }),
    validate("param", NameParamSchema),
    async (c) => c.json({ replays: await listReplays(c.env, c.req.valid("param").name) }, 200),
  )
  .post(
    "/services/:name/:version/replays",
    describe({
      summary:
        "Replay a captured window to one version at a rate, each answer compared with main's captured one; safe methods only unless `methods` names others",
      success: { status: 201, description: "The replay, started", schema: ReplaySchema },
      errors: {
        404: NOT_DEPLOYED,
        409: "The version already has a replay running (`replay_running`)",
        422: "A field is invalid, or the window holds no captured request to replay (`nothing_to_replay`); `error.field` names the field",
      },
    }),
    validate("param", VersionParamSchema),
    validate("json", ReplayBodySchema),
    async (c) => {
      const { name, version } = c.req.valid("param");
      const actor = c.get("actor");
      const view = await startReplay(c.env, { name, version, ...c.req.valid("json"), actor });
      c.executionCtx.waitUntil(auditReplay(c.env, view, actor));
      return c.json(view, 201);
    },
  )
  .get(
    "/services/:name/:version/replays/:id",
    describeShow(" of this version"),
    validate("param", ReplayParamSchema),
    async (c) => {
      const { name, version, id } = c.req.valid("param");
      return c.json(await showReplay(c.env, name, id, version), 200);
    },
  )
  .delete(
    "/services/:name/:version/replays/:id",
    describeStop(" of this version"),
    validate("param", ReplayParamSchema),
    async (c) => {
      const { name, version, id } = c.req.valid("param");
      const { view, stopped } = await stopReplay(c.env, name, id, version);
      if (stopped) c.executionCtx.waitUntil(auditReplay(c.env, view, c.get("actor")));
      return c.json(view, 200);
    },
  )
  .get(
    "/services/:name/replays/:id",
    describeShow(" of the name, whichever version"),
    validate("param", NameReplayParamSchema),
    async (c) => {
      const { name, id } = c.req.valid("param");
      return c.json(await showReplay(c.env, name, id), 200);
    },
  )
  .delete(
    "/services/:name/replays/:id",
    describeStop(" of the name"),
    validate("param", NameReplayParamSchema),
    async (c) => {
      const { name, id } = c.req.valid("param");
      const { view, stopped } = await stopReplay(c.env, name, id);
      if (stopped) c.executionCtx.waitUntil(auditReplay(c.env, view, c.get("actor")));
      return c.json(view, 200);
    },
  );

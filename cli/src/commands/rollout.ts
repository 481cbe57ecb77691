import { defineCommand } from "citty";
import { nearest } from "../argv.ts";
import type { Rollout } from "../client.ts";
import { ApiRefusal, UsageError } from "../errors.ts";
import { escapeControls } from "../escape.ts";
import { createOutput } from "../output.ts";
import { parseEvery, parseSteps, progressLine, rolloutDetails } from "../rollout.ts";
import { openSession } from "../session.ts";
import { connectionArgs, jsonArg } from "./args.ts";

const SEMVER_START = /^\d+\.\d+\.\d+/;

/** `rollout stauts shop`: a misspelt action, or a version that is not one; says which, in one line. */
function notAVersion(first: string, second: string | undefined): string {
  const action = nearest(first, ["status", "abort"]);
  if (action) return `Unknown rollout action ${first}. Did you mean \`daeploy-edge rollout ${action} ${second}\`?`;
  return `${JSON.stringify(second)} is not a version (such as 2.0.0): \`daeploy-edge rollout ${first} VERSION --steps 5,25,50\`, \`rollout status ${first}\` or \`rollout abort ${first}\``;
}

export default defineCommand({
  meta: {
    name: "rollout",
    description:
      "Raise a shadow's canary share step by step while its verdict passes (`rollout NAME VERSION --steps 5,25,50 --every 10m`), show it (`rollout status NAME`) or abort it (`rollout abort NAME`); a version that fails the gate is refused unless --force",
  },
  args: {
    first: { type: "positional", required: true, description: "NAME, or `status` / `abort`" },
    second: { type: "positional", required: false, description: "VERSION, or the NAME after status / abort" },
    steps: { type: "string", valueHint: "5,25,50", description: "The canary share of each step, increasing, 1–50" },
    every: { type: "string", valueHint: "10m", description: "How long each step lasts at least (default 10m)" },
    promote: {
      type: "boolean",
      default: true,
      description: "Make the version main (through the gate) once the last step passes",
      negativeDescription: "Stop at the last step's share, leaving main as it is",
    },
    force: {
      type: "boolean",
      description: "Start even when the version's verdict over the last hour is fail, or cannot be read (audited)",
    },
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args }) {
    const { first, second } = args;
    // `rollout status 2.0.0` would be a rollout of a service named status.
    const action = (first === "status" || first === "abort") && second && !SEMVER_START.test(second) ? first : "start";
    if (action === "start" && !second) {
      throw new UsageError(
        "rollout needs NAME VERSION, e.g. `daeploy-edge rollout hello 2.0.0 --steps 5,25,50 --every 10m`",
      );
    }
    if (action === "start" && !SEMVER_START.test(second as string)) throw new UsageError(notAVersion(first, second));
    const start =
      action === "start" ? { steps: parseSteps(args.steps), stepMinutes: parseEvery(args.every) } : undefined;
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    let rollout: Rollout;
    if (start) {
      try {
        rollout = await api.startRollout(first, second as string, {
          steps: start.steps,
          promote: args.promote,
          force: args.force === true,
          ...(start.stepMinutes !== undefined && { stepMinutes: start.stepMinutes }),
        });
      } catch (error) {
        // The gate refused: each failing rule, with its numbers, above the one line that says so.
        const reasons = error instanceof ApiRefusal ? (error.apiError?.reasons ?? []) : [];
        for (const reason of reasons) output.say.log(`  ${escapeControls(reason)}`);
        throw error;
      }
      if (rollout.warning) output.say.warn(escapeControls(rollout.warning));
      const then = rollout.promote ? "then promote it through the gate" : "then stop there (--no-promote)";
      output.say.log(
        `Rollout of ${rollout.name} ${rollout.version} started: canary ${rollout.steps.join(" % → ")} %, each step at least ${rollout.stepMinutes} min while its verdict passes, ${then}`,
      );
    } else if (action === "abort") {
      rollout = await api.abortRollout(second as string);
      output.say.log(`Rollout of ${rollout.name} ${rollout.version} aborted; its canary share is back to 0 %`);
    } else {
      rollout = await api.rollout(second as string);
    }
    output.say.log(progressLine(rollout, new Date()));
    for (const line of rolloutDetails(rollout)) output.say.log(line);
    if (args.json) output.json(rollout);
  },
});

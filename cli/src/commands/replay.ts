import { setTimeout as sleep } from "node:timers/promises";
import { defineCommand } from "citty";
import { nearest } from "../argv.ts";
import type { AdminApiClient, Replay } from "../client.ts";
import { UsageError } from "../errors.ts";
import { GATE_EXIT } from "../gating.ts";
import { createOutput, type Output } from "../output.ts";
import { parseLast, parseRate, reasonLines, replayConclusion, replayProgress, replayRow } from "../replaying.ts";
import { openSession } from "../session.ts";
import { parseMethods } from "../traffic.ts";
import { connectionArgs, jsonArg } from "./args.ts";

const SEMVER_START = /^\d+\.\d+\.\d+/;
const POLL_MS = 1_000;

/** Follows a replay to its end: a bar rewritten in place on a terminal, a line per tenth elsewhere. */
async function follow(api: AdminApiClient, started: Replay, output: Output): Promise<Replay> {
  const stream = output.promptStream as NodeJS.WritableStream & { isTTY?: boolean };
  const live = stream.isTTY === true && process.env.TERM !== "dumb";
  let replay = started;
  let shownTenth = -1;
  let shown = "";
  while (replay.state === "running") {
    const tenth = replay.total === 0 ? 10 : Math.floor((replay.sent / replay.total) * 10);
    if (live) stream.write(`\r\u001B[2K${replayProgress(replay)}`);
    else if (tenth !== shownTenth) {
      shown = replayProgress(replay);
      output.say.log(shown);
    }
    shownTenth = tenth;
    await sleep(POLL_MS);
    replay = await api.replay(replay.name, replay.id);
  }
  if (live) stream.write("\r\u001B[2K");
  if (replayProgress(replay) !== shown) output.say.log(replayProgress(replay));
  return replay;
}

/** `replay stauts shop`: a misspelt action, or a version that is not one; says which, in one line. */
function notAVersion(first: string, second: string | undefined): string {
  const action = nearest(first, ["status", "stop"]);
  if (action)
    return `Unknown replay action ${first}. Did you mean \`daeploy-edge replay ${action} ${second ?? "NAME"}\`?`;
  return `replay needs NAME VERSION, e.g. \`daeploy-edge replay ${first} 2.0.0 --last 1h\`, or \`replay status ${first}\``;
}

export default defineCommand({
  meta: {
    name: "replay",
    description:
      "Replay captured traffic to a version and judge it (`replay NAME VERSION --last 1h [--rate 20] [--methods GET,HEAD]`; exit codes as gate), show replays (`replay status NAME [ID]`) or stop one (`replay stop NAME ID`)",
  },
  args: {
    first: { type: "positional", required: true, description: "NAME, or `status` / `stop`" },
    second: { type: "positional", required: false, description: "VERSION, or the NAME after status / stop" },
    third: { type: "positional", required: false, description: "The replay's ID after status NAME / stop NAME" },
    last: { type: "string", valueHint: "1h", description: "Replay what was captured this long ago until now" },
    rate: {
      type: "string",
      valueHint: "20",
      description: "Requests a second, evenly spread (default 20, at most 100)",
    },
    methods: {
      type: "string",
      valueHint: "GET,HEAD",
      description: "Methods replayed (default GET,HEAD,OPTIONS); naming writes replays them, `all` for every method",
    },
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args }) {
    const { first, second, third } = args;
    const action = (first === "status" || first === "stop") && second && !SEMVER_START.test(second) ? first : "start";
    if (action === "start" && !(second && SEMVER_START.test(second))) throw new UsageError(notAVersion(first, second));
    if (action === "stop" && !third)
      throw new UsageError(`replay stop needs NAME ID, e.g. \`daeploy-edge replay stop ${second} <id>\``);
    const start =
      action === "start"
        ? {
            from: new Date(Date.now() - parseLast(args.last)).toISOString(),
            rate: parseRate(args.rate),
            methods: parseMethods("methods", args.methods),
          }
        : undefined;
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    if (start) {
      const { from, rate, methods } = start;
      const started = await api.startReplay(first, second as string, {
        from,
        ...(rate !== undefined && { rate }),
        ...(methods !== undefined && { methods }),
      });
      output.say.log(
        `Replaying ${started.total} captured requests of ${first} to ${started.version} at ${started.rate} a second (replay ${started.id})`,
      );
      const replay = await follow(api, started, output);
      output.say.log(replayConclusion(replay));
      for (const line of reasonLines(replay)) output.say.log(line);
      if (args.json) output.json(replay);
      process.exitCode = GATE_EXIT[replay.verdict.outcome];
      return;
    }
    const name = second as string;
    if (action === "stop") {
      const replay = await api.stopReplay(name, third as string);
      output.say.log(replayConclusion(replay));
      if (args.json) output.json(replay);
      return;
    }
    if (third) {
      const replay = await api.replay(name, third);
      output.say.log(replayConclusion(replay));
      output.say.log(replayProgress(replay));
      for (const line of reasonLines(replay)) output.say.log(line);
      if (args.json) output.json(replay);
      return;
    }
    const replays = await api.replays(name);
    if (replays.length === 0)
      output.say.log(`${name} has no replays yet: \`daeploy-edge replay ${name} VERSION --last 1h\``);
    for (const replay of replays) output.say.log(replayRow(replay));
    if (args.json) output.json({ replays });
  },
});

import { setTimeout as sleep } from "node:timers/promises";
import { defineCommand } from "citty";
import { formatBands } from "../bands.ts";
import type { AdminApiClient, GateResult } from "../client.ts";
import { ApiRefusal, HostUnreachable } from "../errors.ts";
import { escapeControls } from "../escape.ts";
import { conclusionOf, formatLeft, GATE_EXIT, isSettled, parseWait, progressOf, windowArg } from "../gating.ts";
import { createOutput, type Output } from "../output.ts";
import { openSession } from "../session.ts";
import { connectionArgs, jsonArg, serviceArgs } from "./args.ts";

/** How often a waiting gate asks again; the ledger takes evidence about once a second. */
const POLL_MS = 3_000;
/** Without a terminal, a line at most this often unless the verdict changes: a CI log stays short. */
const PLAIN_EVERY_MS = 30_000;

/** A gateway restarting or a network blip while waiting is not the verdict: asked again until time is up. */
const isPassing = (error: unknown) =>
  error instanceof HostUnreachable || (error instanceof ApiRefusal && error.status >= 500);

/** Progress while waiting: one line rewritten in place on a terminal, occasional plain lines elsewhere. */
function progressReporter(output: Output) {
  const stream = output.promptStream as NodeJS.WritableStream & { isTTY?: boolean };
  const live = stream.isTTY === true && process.env.TERM !== "dumb";
  let last = { verdict: "", at: 0 };
  return {
    show(line: string, verdict: string) {
      if (live) {
        stream.write(`\r\u001B[2K${line}`);
        return;
      }
      const now = Date.now();
      if (verdict === last.verdict && now - last.at < PLAIN_EVERY_MS) return;
      last = { verdict, at: now };
      output.say.log(line);
    },
    done() {
      if (live) stream.write("\r\u001B[2K");
    },
  };
}

async function waitForVerdict(
  api: AdminApiClient,
  args: { name: string; version: string; window: string; waitMs: number },
  output: Output,
): Promise<GateResult> {
  const { name, version, window, waitMs } = args;
  const deadline = Date.now() + waitMs;
  let result = await api.gate(name, version, window);
  if (waitMs === 0 || isSettled(result)) return result;
  const { minRequests } = (await api.policy(name)).gate;
  const progress = progressReporter(output);
  try {
    for (;;) {
      const left = deadline - Date.now();
      progress.show(
        `Waiting for ${name} ${version} (last ${window}, ${formatLeft(left)} left): ${progressOf(result, minRequests)}`,
        result.verdict,
      );
      if (left <= 0) return result;
      await sleep(Math.min(POLL_MS, left));
      try {
        result = await api.gate(name, version, window);
      } catch (error) {
        if (!isPassing(error) || Date.now() >= deadline) throw error;
        continue;
      }
      if (isSettled(result)) return result;
    }
  } finally {
    progress.done();
  }
}

export default defineCommand({
  meta: {
    name: "gate",
    description:
      "Wait for a shadow's verdict, for pipelines: exit 0 pass, 1 fail, 2 still inconclusive, 3 unreachable or refused",
  },
  args: {
    ...serviceArgs,
    wait: {
      type: "string",
      valueHint: "30m",
      description:
        "Keep asking until the verdict is pass or fail, for at most this long: 90s, 30m, 2h (default 0: ask once)",
    },
    window: {
      type: "string",
      valueHint: "1h",
      description: "Evidence over how long: <n>m, <n>h or <n>d (a bare number is minutes), from 5m to 7d (default 1h)",
    },
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args }) {
    const output = createOutput({ json: args.json });
    const waitMs = parseWait(args.wait);
    const window = windowArg(args.window) ?? "1h";
    const api = await openSession(args, output);
    const started = Date.now();
    const result = await waitForVerdict(api, { name: args.name, version: args.version, window, waitMs }, output);
    if (args.json) output.json(result);
    else {
      output.say.log(conclusionOf(result, window, isSettled(result) ? 0 : Date.now() - started));
      // Reasons name origins' fields, whose keys may hold control characters.
      for (const reason of result.reasons) output.say.log(`  ${escapeControls(reason)}`);
      const bands = formatBands([result]);
      if (bands.length > 0) output.say.log(`\n${bands.join("\n")}`);
    }
    process.exitCode = GATE_EXIT[result.verdict];
  },
});

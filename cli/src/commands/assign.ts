import { defineCommand } from "citty";
import type { AdminApiClient, AssignResult } from "../client.ts";
import { ApiRefusal, GateRefusal } from "../errors.ts";
import { escapeControls } from "../escape.ts";
import { mainNumbers, verdictLine } from "../evidence.ts";
import { listMatching } from "../listing.ts";
import { createOutput, type Output } from "../output.ts";
import { confirm } from "../prompt.ts";
import { openSession } from "../session.ts";
import { formatServiceTable } from "../table.ts";
import { connectionArgs, jsonArg, serviceArgs, yesArg } from "./args.ts";

/** The gateway judges assigns over the last hour; the line before the question shows that same window. */
const GATE_WINDOW = "1h";

/**
 * The version's evidence over the gate's window, or nothing when there is none to show (the
 * version is main, or unknown, or the report cannot be read): the gateway's own gate still decides.
 */
async function evidenceFor(api: AdminApiClient, name: string, version: string) {
  try {
    const [report, policy] = await Promise.all([api.report(name, GATE_WINDOW), api.policy(name)]);
    const shadow = report.shadows.find((candidate) => candidate.version === version);
    return shadow && { shadow, minRequests: policy.gate.minRequests, main: mainNumbers(report) };
  } catch (error) {
    if (error instanceof ApiRefusal) return undefined;
    throw error;
  }
}

/** Reasons name origins' fields, whose keys may hold control characters: printed escaped. */
function sayReasons(output: Output, reasons: readonly string[]): void {
  for (const reason of reasons) output.say.log(`  ${escapeControls(reason)}`);
}

export default defineCommand({
  meta: {
    name: "assign",
    description:
      "Make a version the main of its service, if its evidence does not fail the gate; the old main becomes a shadow",
  },
  args: {
    ...serviceArgs,
    ...yesArg,
    force: {
      type: "boolean",
      description: "Force the promotion even when the version's verdict over the last hour is fail",
    },
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args }) {
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    const { name, version } = args;
    const force = args.force === true;
    const matching = await listMatching(api, name, version);
    // Nothing to ask about a version that does not exist: the gateway's 404 says so before any question.
    if (matching.length === 0) await api.assignMain(name, version, force);
    // The current main needs no question: the gateway's answer (a no-op) says it already is.
    const alreadyMain = matching.some((record) => record.main);
    const evidence = alreadyMain ? undefined : await evidenceFor(api, name, version);
    if (evidence) {
      output.say.log(verdictLine(name, evidence.shadow, evidence.minRequests, GATE_WINDOW, evidence.main));
      if (evidence.shadow.verdict === "fail") {
        sayReasons(output, evidence.shadow.reasons);
        if (!force) {
          throw new GateRefusal(
            `${name} ${version} fails the promotion gate, so it stays a shadow. See \`daeploy-edge report ${name}\` ` +
              `and \`daeploy-edge diffs ${name} ${version}\`, or force the promotion with --force.`,
            evidence.shadow.reasons,
          );
        }
      }
    }
    const confirmed =
      alreadyMain ||
      (await confirm(`Change ${name} ${version} to main?`, {
        assumeYes: args.yes,
        output: output.promptStream,
      }));
    if (!confirmed) {
      output.cancelled("Assign cancelled.");
      return;
    }
    let result: AssignResult;
    try {
      result = await api.assignMain(name, version, force);
    } catch (error) {
      // The evidence changed between the line above and the assign: say why the gateway refused.
      if (error instanceof ApiRefusal && error.apiError?.reasons) sayReasons(output, error.apiError.reasons);
      throw error;
    }
    // The line above already said what the gateway's warning says (no verdict yet, or forced).
    if (result.warning && !evidence) output.say.warn(result.warning);
    // Assigning the current main changes nothing, and says so.
    output.say.log(
      result.changed === false ? `${name} ${version} is already main` : `Changed main version to ${name} ${version}`,
    );
    if (args.json) output.json(result);
    else output.say.log(formatServiceTable(result.services, output));
  },
});

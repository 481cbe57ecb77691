import { defineCommand } from "citty";
import { formatBands } from "../bands.ts";
import { UsageError } from "../errors.ts";
import { baselineLine, formatCanaryPairs, formatFailures, formatNoise, formatReportTable } from "../evidence.ts";
import { windowArg } from "../gating.ts";
import { createOutput } from "../output.ts";
import { openSession } from "../session.ts";
import { connectionArgs, jsonArg, serviceFilterArgs } from "./args.ts";

export default defineCommand({
  meta: {
    name: "report",
    description: "Each shadow's evidence against main (answers compared, errors, latency) and its verdict",
  },
  args: {
    name: { ...serviceFilterArgs.name, required: true, description: "Service name" },
    version: { ...serviceFilterArgs.version, description: "Only this shadow (main's row stays as the baseline)" },
    window: {
      type: "string",
      valueHint: "1h",
      description: "How far back: <n>m, <n>h or <n>d (a bare number is minutes), from 5m to 7d (default 1h)",
    },
    baseline: {
      type: "string",
      valueHint: "version",
      description: "Read the evidence against a former main instead of the current one",
    },
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args }) {
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    const { name, version } = args;
    const [report, policy] = await Promise.all([
      api.report(name, windowArg(args.window), args.baseline),
      api.policy(name),
    ]);
    if (version !== undefined && version !== report.baseline.main) {
      if (!report.shadows.some((shadow) => shadow.version === version)) {
        throw new UsageError(`${name} has no shadow ${version}; \`daeploy-edge ls ${name}\` lists its versions.`);
      }
      report.shadows = report.shadows.filter((shadow) => shadow.version === version);
    }
    if (args.json) {
      output.json(report);
      return;
    }
    const against = baselineLine(report);
    if (against) output.say.log(against);
    output.say.log(formatReportTable(report, policy.gate.minRequests));
    for (const line of formatCanaryPairs(report)) output.say.log(line);
    for (const block of formatFailures(report)) output.say.log(`\n${block}`);
    const bands = formatBands(report.shadows);
    if (bands.length > 0) output.say.log(`\n${bands.join("\n")}`);
    const noise = formatNoise(report);
    if (noise) output.say.log(`\n${noise}`);
  },
});

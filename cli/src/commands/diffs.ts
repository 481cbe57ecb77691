import { defineCommand } from "citty";
import { formatSample, terminalPaint } from "../diff-view.ts";
import { createOutput } from "../output.ts";
import { openSession } from "../session.ts";
import { connectionArgs, jsonArg, serviceArgs } from "./args.ts";

export default defineCommand({
  meta: {
    name: "diffs",
    description: "Sampled exchanges where a shadow answered differently from main, main beside the shadow",
  },
  args: {
    ...serviceArgs,
    path: { type: "string", valueHint: "body.price", description: "Only samples that differ at this path" },
    limit: { type: "string", valueHint: "1-100", description: "At most this many samples, newest first (default 10)" },
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args }) {
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    const { name, version, path, limit } = args;
    const samples = await api.diffs(name, version, { path, limit });
    if (args.json) {
      output.json({ samples });
      return;
    }
    if (samples.length === 0) {
      const where = path === undefined ? "" : ` at ${path}`;
      output.say.log(`No sampled differences of ${name} ${version}${where} (samples are kept for 7 days).`);
      return;
    }
    const paint = output.colour ? terminalPaint : undefined;
    output.say.log(samples.map((sample) => formatSample(sample, paint)).join("\n\n"));
  },
});

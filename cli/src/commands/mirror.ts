import { defineCommand } from "citty";
import type { ServiceRecord } from "../client.ts";
import { UsageError } from "../errors.ts";
import { listMatching } from "../listing.ts";
import { createOutput } from "../output.ts";
import { openSession } from "../session.ts";
import { formatServiceTable } from "../table.ts";
import { describeTrafficControls, parseHeaderList, parseMethods, parsePercent } from "../traffic.ts";
import { connectionArgs, jsonArg, serviceArgs } from "./args.ts";

export default defineCommand({
  meta: {
    name: "mirror",
    description:
      "Show or change which share and which methods of requests a version receives while it is a shadow, and which headers its copies go without",
  },
  args: {
    ...serviceArgs,
    percent: {
      type: "string",
      valueHint: "0-100",
      description: "Share of requests this version receives as a shadow (two decimals; 100 is every request)",
    },
    methods: {
      type: "string",
      valueHint: "GET,HEAD|all",
      description: "Only these methods, comma-separated; `all` for every method",
    },
    strip: {
      type: "string",
      valueHint: "authorization,cookie|none",
      description: "Request headers its copies go without, comma-separated; `none` sends every header again",
    },
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args }) {
    const mirrorPercent = parsePercent("percent", args.percent);
    const mirrorMethods = parseMethods("methods", args.methods);
    const stripHeaders = parseHeaderList(args.strip);
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    const { name, version } = args;
    let record: ServiceRecord | undefined;
    if (mirrorPercent === undefined && mirrorMethods === undefined && stripHeaders === undefined) {
      [record] = await listMatching(api, name, version);
      if (!record)
        throw new UsageError(`No service matches ${name} ${version}; \`daeploy-edge ls ${name}\` lists its versions.`);
    } else {
      record = await api.setTrafficControls(name, version, {
        ...(mirrorPercent !== undefined && { mirrorPercent }),
        ...(mirrorMethods !== undefined && { mirrorMethods }),
        ...(stripHeaders !== undefined && { stripHeaders }),
      });
    }
    output.say.log(describeTrafficControls(record));
    if (args.json) output.json(record);
    else output.say.log(formatServiceTable([record], output));
  },
});

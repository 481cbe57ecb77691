import { defineCommand } from "citty";
import type { ServiceRecord } from "../client.ts";
import { UsageError } from "../errors.ts";
import { listMatching } from "../listing.ts";
import { createOutput } from "../output.ts";
import { openSession } from "../session.ts";
import { formatServiceTable } from "../table.ts";
import {
  describeTrafficControls,
  parseCanaryKey,
  parseHeaderList,
  parseMethods,
  parseOnOff,
  parsePercent,
} from "../traffic.ts";
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
    // Named after the share it sets (canaryPercent): the canary is one more control of what a shadow gets.
    canary: {
      type: "string",
      valueHint: "0-50",
      description: "Share of requests this version answers in main's place (main gets their copies); 0 stops it",
    },
    "canary-key": {
      type: "string",
      valueHint: "header|request-id",
      description: "Header whose value picks the canary's requests, so one user stays on one version",
    },
    "canary-writes": {
      type: "string",
      valueHint: "on|off",
      description:
        "Whether main also gets a marked copy of the writes (not GET, HEAD, OPTIONS) it answers as a canary; only for a main that ignores X-Daeploy-Shadow requests",
    },
    "forward-access": {
      type: "string",
      valueHint: "on|off",
      description: "Whether this version gets Cloudflare Access's assertion (for an origin that checks it itself)",
    },
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args }) {
    const mirrorPercent = parsePercent("percent", args.percent);
    const mirrorMethods = parseMethods("methods", args.methods);
    const canaryPercent = parsePercent("canary", args.canary);
    const canaryKey = parseCanaryKey(args["canary-key"]);
    const canaryWrites = parseOnOff("canary-writes", args["canary-writes"]);
    const stripHeaders = parseHeaderList(args.strip);
    const forwardAccess = parseOnOff("forward-access", args["forward-access"]);
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    const { name, version } = args;
    let record: ServiceRecord | undefined;
    const changes = {
      ...(mirrorPercent !== undefined && { mirrorPercent }),
      ...(mirrorMethods !== undefined && { mirrorMethods }),
      ...(stripHeaders !== undefined && { stripHeaders }),
      ...(canaryPercent !== undefined && { canaryPercent }),
      ...(canaryKey !== undefined && { canaryKey }),
      ...(canaryWrites !== undefined && { canaryWrites }),
      ...(forwardAccess !== undefined && { forwardAccess }),
    };
    if (Object.keys(changes).length === 0) {
      [record] = await listMatching(api, name, version);
      if (!record)
        throw new UsageError(`No service matches ${name} ${version}; \`daeploy-edge ls ${name}\` lists its versions.`);
    } else {
      record = await api.setTrafficControls(name, version, changes);
    }
    output.say.log(describeTrafficControls(record));
    if (args.json) output.json(record);
    else output.say.log(formatServiceTable([record], output));
  },
});

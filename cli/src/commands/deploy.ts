import { defineCommand } from "citty";
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
    name: "deploy",
    description: "Register an already-running origin as a version of a service (the first version becomes main)",
  },
  args: {
    ...serviceArgs,
    origin: { type: "positional", required: true, description: "The origin's URL, e.g. https://hello-v1.example.com" },
    check: {
      type: "boolean",
      default: true,
      description: "Refuse unless the origin answers (any HTTP status)",
      negativeDescription: "Deploy without checking that the origin answers",
    },
    "mirror-percent": {
      type: "string",
      valueHint: "0-100",
      description: "Share of requests it receives while a shadow (default 100: every request)",
    },
    "mirror-methods": {
      type: "string",
      valueHint: "GET,HEAD|all",
      description: "Only these methods while a shadow, comma-separated (default all)",
    },
    strip: {
      type: "string",
      valueHint: "authorization,cookie",
      description: "Request headers its copies go without while a shadow, comma-separated (default none)",
    },
    canary: {
      type: "string",
      valueHint: "0-50",
      description: "Share of requests it answers in main's place while a shadow (default 0)",
    },
    "canary-key": {
      type: "string",
      valueHint: "header|request-id",
      description: "Header whose value picks the canary's requests (default: the request id)",
    },
    "canary-writes": {
      type: "string",
      valueHint: "on|off",
      description:
        "Whether main also gets a marked copy of the writes it answers as a canary (default off: a write is done once)",
    },
    "forward-access": {
      type: "string",
      valueHint: "on|off",
      description:
        "Whether this version gets Cloudflare Access's assertion, for an origin that checks it itself (default off)",
    },
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args }) {
    const mirrorPercent = parsePercent("mirror-percent", args["mirror-percent"]);
    const mirrorMethods = parseMethods("mirror-methods", args["mirror-methods"]);
    const canaryPercent = parsePercent("canary", args.canary);
    const canaryKey = parseCanaryKey(args["canary-key"]);
    const canaryWrites = parseOnOff("canary-writes", args["canary-writes"]);
    const forwardAccess = parseOnOff("forward-access", args["forward-access"]);
    const stripHeaders = parseHeaderList(args.strip);
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    output.say.log("Deploying service...");
    const record = await api.deploy({
      name: args.name,
      version: args.version,
      origin: args.origin,
      check: args.check,
      ...(mirrorPercent !== undefined && { mirrorPercent }),
      ...(mirrorMethods !== undefined && { mirrorMethods }),
      ...(stripHeaders !== undefined && { stripHeaders }),
      ...(canaryPercent !== undefined && { canaryPercent }),
      ...(canaryKey !== undefined && { canaryKey }),
      ...(canaryWrites !== undefined && { canaryWrites }),
      ...(forwardAccess !== undefined && { forwardAccess }),
    });
    output.say.log("Service deployed successfully");
    // Controls that differ from Daeploy's "every request" are said back, so a typo'd share is seen at once.
    const controls = [
      mirrorPercent,
      mirrorMethods,
      stripHeaders,
      canaryPercent,
      canaryKey,
      canaryWrites,
      forwardAccess,
    ];
    if (controls.some((c) => c !== undefined)) output.say.log(describeTrafficControls(record));
    if (args.json) output.json(record);
    else output.say.log(formatServiceTable([record], output));
  },
});

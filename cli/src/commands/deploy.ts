import { defineCommand } from "citty";
import { createOutput } from "../output.ts";
import { openSession } from "../session.ts";
import { formatServiceTable } from "../table.ts";
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
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args }) {
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    output.say.log("Deploying service...");
    const record = await api.deploy({ name: args.name, version: args.version, origin: args.origin, check: args.check });
    output.say.log("Service deployed successfully");
    if (args.json) output.json(record);
    else output.say.log(formatServiceTable([record], output));
  },
});

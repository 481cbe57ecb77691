import { defineCommand } from "citty";
import { listMatching } from "../listing.ts";
import { createOutput } from "../output.ts";
import { openSession } from "../session.ts";
import { formatServiceTable } from "../table.ts";
import { connectionArgs, jsonArg, serviceFilterArgs } from "./args.ts";

export default defineCommand({
  meta: { name: "ls", description: "List services, optionally only one name, or one version of it" },
  args: {
    ...serviceFilterArgs,
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args }) {
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    const services = await listMatching(api, args.name, args.version);
    if (args.json) output.json({ services });
    else output.say.log(formatServiceTable(services, output));
  },
});

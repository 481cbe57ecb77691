import { defineCommand } from "citty";
import { createOutput } from "../output.ts";
import { confirm } from "../prompt.ts";
import { openSession } from "../session.ts";
import { formatServiceTable } from "../table.ts";
import { connectionArgs, jsonArg, serviceArgs, yesArg } from "./args.ts";

export default defineCommand({
  meta: { name: "assign", description: "Make a version the main of its service; the old main becomes a shadow" },
  args: { ...serviceArgs, ...yesArg, ...jsonArg, ...connectionArgs },
  async run({ args }) {
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    const { name, version } = args;
    const confirmed = await confirm(`Change ${name} ${version} to main?`, {
      assumeYes: args.yes,
      output: output.promptStream,
    });
    if (!confirmed) {
      output.say.log("Assign cancelled.");
      return;
    }
    const services = await api.assignMain(name, version);
    output.say.log(`Changed main version to ${name} ${version}`);
    if (args.json) output.json({ services });
    else output.say.log(formatServiceTable(services));
  },
});

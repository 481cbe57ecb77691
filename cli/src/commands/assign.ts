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
      output.cancelled("Assign cancelled.");
      return;
    }
    const { services, changed } = await api.assignMain(name, version);
    // Assigning the current main changes nothing, and says so.
    output.say.log(
      changed === false ? `${name} ${version} is already main` : `Changed main version to ${name} ${version}`,
    );
    if (args.json) output.json(changed === undefined ? { services } : { services, changed });
    else output.say.log(formatServiceTable(services, output));
  },
});

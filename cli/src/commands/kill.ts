import { defineCommand } from "citty";
import type { ServiceRecord } from "../client.ts";
import { UsageError } from "../errors.ts";
import { findVictims, killInOrder, killTarget } from "../killing.ts";
import { createOutput } from "../output.ts";
import { confirm } from "../prompt.ts";
import { openSession } from "../session.ts";
import { formatServiceTable } from "../table.ts";
import { connectionArgs, jsonArg, serviceFilterArgs, yesArg } from "./args.ts";

export default defineCommand({
  meta: {
    name: "kill",
    description: "Remove one version, every version of a name, or every service (--all); shadows go before mains",
  },
  args: {
    ...serviceFilterArgs,
    all: { type: "boolean", alias: "a", description: "Kill every version of every service" },
    ...yesArg,
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args }) {
    const target = killTarget(args);
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    const victims = await findVictims(api, target);
    if (victims.length === 0) {
      if (target.kind !== "all") throw new UsageError("No services match the given name and version.");
      output.say.log("There are no services to kill.");
      if (args.json) output.json({ killed: [] });
      return;
    }
    output.say.log(formatServiceTable(victims, output));
    const confirmed = await confirm("Are you sure you want to kill the above service(s)?", {
      assumeYes: args.yes,
      output: output.promptStream,
    });
    if (!confirmed) {
      output.cancelled("Service(s) not killed");
      return;
    }
    const killed: ServiceRecord[] = [];
    for await (const record of killInOrder(api, target, victims)) {
      killed.push(record);
      output.say.log(`Service ${record.name} ${record.version} killed.`);
    }
    if (args.json) output.json({ killed });
  },
});

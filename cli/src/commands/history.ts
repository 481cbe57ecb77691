import { defineCommand } from "citty";
import { formatHistory } from "../history.ts";
import { createOutput } from "../output.ts";
import { openSession } from "../session.ts";
import { connectionArgs, jsonArg } from "./args.ts";

export default defineCommand({
  meta: {
    name: "history",
    description:
      "Who changed what: deploys, assignments (with their verdict and force), kills, traffic and policy changes",
  },
  args: {
    name: { type: "positional", required: false, description: "Only the changes of this name" },
    limit: { type: "string", valueHint: "1-500", description: "At most this many changes, newest first (default 50)" },
    ...jsonArg,
    ...connectionArgs,
  },
  async run({ args }) {
    const output = createOutput({ json: args.json });
    const api = await openSession(args, output);
    const { name, limit } = args;
    const rows = await api.audit({ ...(name !== undefined && { name }), ...(limit !== undefined && { limit }) });
    if (args.json) {
      output.json({ audit: rows });
      return;
    }
    if (rows.length === 0) {
      output.say.log(name === undefined ? "No changes recorded yet." : `No changes of ${name} recorded.`);
      return;
    }
    output.say.log(formatHistory(rows));
  },
});

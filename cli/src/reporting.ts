import type { ArgsDef, CommandDef } from "citty";
import { describeFailure } from "./errors.ts";
import { createOutput } from "./output.ts";
import { closePrompts } from "./prompt.ts";

/**
 * The one place a failure becomes output and an exit code: one line on stderr, exit 1, never a
 * stack trace (DEBUG=1 adds it). citty still handles --help and bad arguments itself.
 */
export function reportingFailures<T extends ArgsDef>(command: CommandDef<T>): CommandDef<T> {
  const run = command.run;
  if (!run) return command;
  return {
    ...command,
    async run(context) {
      try {
        await run(context);
      } catch (error) {
        createOutput().say.error(describeFailure(error));
        if (process.env.DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
        process.exitCode = 1;
      } finally {
        closePrompts();
      }
    },
  };
}

import type { ArgsDef, CommandDef } from "citty";
import { plainArgs, unexpectedArgument } from "./argv.ts";
import { describeFailure, failureAsJson, UsageError } from "./errors.ts";
import { createOutput } from "./output.ts";
import { closePrompts } from "./prompt.ts";

/**
 * The one place a failure becomes output and an exit code: one line on stderr, exit 1, never a
 * stack trace (DEBUG=1 adds it); with `--json`, also `{"error":{…}}` on stdout. Arguments the
 * command does not take are failures too. citty still handles --help, and missing arguments unless --json
 * is given (cli.ts answers those). `gate` exits 3 instead, as 1 is its "fail" verdict.
 */
export function reportingFailures<T extends ArgsDef>(
  name: string,
  command: CommandDef<T>,
  failureExitCode = 1,
): CommandDef<T> {
  const run = command.run;
  if (!run) return command;
  return {
    ...command,
    async run(context) {
      const json = "json" in context.args && context.args.json === true;
      try {
        const unexpected = unexpectedArgument(context.rawArgs, plainArgs(command.args));
        if (unexpected) throw new UsageError(`${unexpected}. See \`daeploy-edge ${name} --help\`.`);
        await run(context);
      } catch (error) {
        createOutput().say.error(describeFailure(error));
        if (json) createOutput({ json }).json(failureAsJson(error));
        if (process.env.DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
        process.exitCode = failureExitCode;
      } finally {
        closePrompts();
      }
    },
  };
}

#!/usr/bin/env node
import { type ArgsDef, type CommandDef, defineCommand, renderUsage, runMain } from "citty";
import manifest from "../../package.json" with { type: "json" };
import { checkArguments, plainArgs, topLevelProblem } from "./argv.ts";
import { colourOn, plainUnless } from "./colour.ts";
import { commands } from "./commands/index.ts";

// `daeploy-edge ls | head -1` closes stdout early: the reader has what it wanted, so no stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const main = defineCommand({
  meta: {
    name: "daeploy-edge",
    version: manifest.version,
    description:
      "Deploy, list, assign and kill versions of services behind a daeploy-edge shadow gateway, and judge shadows by their evidence",
  },
  subCommands: commands,
});

/** citty colours its help unless NO_COLOR=1; here it is plain whenever stdout is no terminal. */
async function showUsage<T extends ArgsDef = ArgsDef>(command: CommandDef<T>, parent?: CommandDef<T>): Promise<void> {
  const usage = await renderUsage(command, parent);
  process.stdout.write(`${plainUnless(colourOn(process.stdout), usage)}\n\n`);
}

/** A missing argument gets the command's usage from citty, except under --json: a script gets JSON. */
function missingUnderJson(rawArgs: readonly string[]): string | undefined {
  const [name, ...rest] = rawArgs;
  if (!rest.includes("--json") || rest.includes("--help") || rest.includes("-h")) return undefined;
  const command = name === undefined ? undefined : Object.entries(commands).find(([known]) => known === name)?.[1];
  const missing = command && checkArguments(rest, plainArgs(command.args)).missing;
  return missing && `Missing argument ${missing}. See \`daeploy-edge ${name} --help\`.`;
}

const rawArgs = process.argv.slice(2);
// A typo'd command or a stray option gets one line, not the whole help.
const problem = topLevelProblem(rawArgs, Object.keys(commands));
const missing = problem ? undefined : missingUnderJson(rawArgs);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exitCode = 1;
} else if (missing) {
  process.stderr.write(`${missing}\n`);
  process.stdout.write(`${JSON.stringify({ error: { code: "usage", message: missing } }, null, 2)}\n`);
  process.exitCode = 1;
} else {
  runMain(main, { showUsage });
}

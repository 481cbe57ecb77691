#!/usr/bin/env node
import { type ArgsDef, type CommandDef, defineCommand, renderUsage, runMain } from "citty";
import manifest from "../../package.json" with { type: "json" };
import { topLevelProblem } from "./argv.ts";
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
    description: "Deploy, list, assign and kill versions of services behind a daeploy-edge shadow gateway",
  },
  subCommands: commands,
});

/** citty colours its help unless NO_COLOR=1; here it is plain whenever stdout is no terminal. */
async function showUsage<T extends ArgsDef = ArgsDef>(command: CommandDef<T>, parent?: CommandDef<T>): Promise<void> {
  const usage = await renderUsage(command, parent);
  process.stdout.write(`${plainUnless(colourOn(process.stdout), usage)}\n\n`);
}

// A typo'd command or a stray option gets one line, not the whole help.
const problem = topLevelProblem(process.argv.slice(2), Object.keys(commands));
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exitCode = 1;
} else {
  runMain(main, { showUsage });
}

import { formatWithOptions } from "node:util";
import { type ConsolaInstance, type ConsolaReporter, createConsola } from "consola/core";
import { colourOn } from "./colour.ts";

/** Lines exactly as given: the messages and the table are a contract, so no badges or dates. */
const plainReporter: ConsolaReporter = {
  log(logObj, ctx) {
    const line = `${formatWithOptions({}, ...logObj.args)}\n`;
    const stream = logObj.level < 2 ? ctx.options.stderr : ctx.options.stdout;
    (stream ?? process.stdout).write(line);
  },
};

export interface Output {
  /** Human lines: messages, tables, `Active host`. */
  say: ConsolaInstance;
  /** Where a prompt writes its question (the same place as the human lines). */
  promptStream: NodeJS.WritableStream;
  /** Whether the human lines go to a terminal that wants colour. */
  colour: boolean;
  /** Machine output for `--json`; the only thing written to stdout in that mode. */
  json(value: unknown): void;
  /** A declined prompt: a line for people, and `{"cancelled":true}` for `--json` scripts. */
  cancelled(message: string): void;
}

/**
 * With `--json`, stdout carries only the JSON document, so `| jq` works; the human lines
 * (and prompts) move to stderr.
 */
export function createOutput(options: { json?: boolean } = {}): Output {
  const human = options.json ? process.stderr : process.stdout;
  const say = createConsola({ reporters: [plainReporter], stdout: human, stderr: process.stderr });
  const json = (value: unknown) => {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  };
  return {
    say,
    promptStream: human,
    colour: colourOn(human),
    json,
    cancelled(message) {
      say.log(message);
      if (options.json) json({ cancelled: true });
    },
  };
}

import { formatWithOptions } from "node:util";
import { type ConsolaInstance, type ConsolaReporter, createConsola } from "consola/core";

/** Lines exactly as given: the messages and the table are a contract, so no badges, dates or colours. */
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
  /** Machine output for `--json`; the only thing written to stdout in that mode. */
  json(value: unknown): void;
}

/**
 * With `--json`, stdout carries only the JSON document, so `| jq` works; the human lines
 * (and prompts) move to stderr.
 */
export function createOutput(options: { json?: boolean } = {}): Output {
  const human = options.json ? process.stderr : process.stdout;
  return {
    say: createConsola({ reporters: [plainReporter], stdout: human, stderr: process.stderr }),
    promptStream: human,
    json: (value) => {
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
  };
}

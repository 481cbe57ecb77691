import { createInterface, type Interface } from "node:readline";
import { UsageError } from "./errors.ts";

/**
 * One line reader for piped stdin, kept for the whole process: readline buffers ahead, so a second
 * reader would lose the lines meant for the next question (login asks for host, then token).
 */
let pipedReader: { lines: AsyncIterator<string>; reader: Interface } | undefined;

async function readPipedLine(): Promise<string | undefined> {
  if (!pipedReader) {
    const reader = createInterface({ input: process.stdin, terminal: false });
    pipedReader = { reader, lines: reader[Symbol.asyncIterator]() };
  }
  const next = await pipedReader.lines.next();
  return next.done ? undefined : next.value;
}

/** A terminal in cooked mode echoes and edits the line itself; the reader only waits for Enter. */
function readTerminalLine(): Promise<string | undefined> {
  const reader = createInterface({ input: process.stdin, terminal: false });
  return new Promise((resolve) => {
    reader.once("line", (line) => {
      resolve(line);
      reader.close();
    });
    reader.once("close", () => resolve(undefined));
  });
}

/** Raw mode so the secret is not echoed; Enter ends it, Ctrl-C or Ctrl-D gives up. */
function readTerminalSecret(output: NodeJS.WritableStream): Promise<string | undefined> {
  const stdin = process.stdin;
  return new Promise((resolve) => {
    let secret = "";
    const finish = (value: string | undefined) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      output.write("\n");
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") return finish(secret);
        if (char === "\u0003" || char === "\u0004") return finish(undefined);
        if (char === "\u007f" || char === "\b") secret = secret.slice(0, -1);
        else secret += char;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

interface AskOptions {
  output: NodeJS.WritableStream;
  /** Do not echo the answer on a terminal (tokens). */
  secret?: boolean;
}

/** Asks on the terminal, or reads the next line of stdin when there is no terminal; undefined at end of input. */
export async function ask(question: string, { output, secret = false }: AskOptions): Promise<string | undefined> {
  output.write(question);
  if (!process.stdin.isTTY) {
    const line = await readPipedLine();
    // Nobody typed the answer, so end the prompt's line for whatever is printed next.
    output.write("\n");
    return line;
  }
  return secret ? readTerminalSecret(output) : readTerminalLine();
}

/**
 * Daeploy's confirmation: `<question> [y/N]: `, yes only on y/yes; `--yes` skips the question. No
 * answer at all (stdin ended, as in a pipeline with nothing piped) is not a "no" that exits 0 as if
 * done: it fails, saying to pass --yes.
 */
export async function confirm(question: string, options: AskOptions & { assumeYes?: boolean }): Promise<boolean> {
  if (options.assumeYes) return true;
  const answer = await ask(`${question} [y/N]: `, options);
  if (answer === undefined) {
    throw new UsageError("Nobody answered the question (standard input ended); pass --yes to go ahead without asking.");
  }
  return /^\s*y(es)?\s*$/i.test(answer);
}

/** Lets the process exit: a reader left open on stdin would keep it alive. */
export function closePrompts(): void {
  pipedReader?.reader.close();
  pipedReader = undefined;
}

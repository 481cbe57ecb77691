import { stripVTControlCharacters } from "node:util";

interface MaybeTerminal {
  isTTY?: boolean;
}

/** Colour only for a person at a terminal: never when piped or redirected, nor with NO_COLOR set (no-color.org). */
export function colourOn(stream: MaybeTerminal, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return stream.isTTY === true && env.TERM !== "dumb";
}

export const red = (text: string) => `\u001B[31m${text}\u001B[39m`;

/** Text that may carry colour codes, made plain when colour is off. */
export const plainUnless = (colour: boolean, text: string) => (colour ? text : stripVTControlCharacters(text));

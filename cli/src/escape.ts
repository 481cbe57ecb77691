/**
 * Origins' text reaches the CLI's output (sample bodies, headers, URLs); a terminal would obey the
 * control characters in it (clear the screen, retitle the window, forge a line). They are printed
 * as escapes instead: C0 controls but tab, DEL, and the C1 range, which some terminals also obey.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F-\u009F]/g;

const escapeOne = (char: string): string => `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;

/** One line of origin text, safe to print: every control character (newlines too) as `\xNN`. */
export const escapeControls = (text: string): string => text.replace(CONTROL, escapeOne);

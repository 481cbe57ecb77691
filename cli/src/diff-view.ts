import { structuredPatch } from "diff";
import type { DiffSample } from "./client.ts";
import { escapeControls } from "./escape.ts";
import { formatLocalTimestamp } from "./table.ts";

/** Lines of unchanged body kept around each change. */
const CONTEXT_LINES = 3;

interface Paint {
  removed(text: string): string;
  added(text: string): string;
  hunk(text: string): string;
  heading(text: string): string;
}

const plain: Paint = { removed: (t) => t, added: (t) => t, hunk: (t) => t, heading: (t) => t };

export const terminalPaint: Paint = {
  removed: (t) => `\u001B[31m${t}\u001B[39m`,
  added: (t) => `\u001B[32m${t}\u001B[39m`,
  hunk: (t) => `\u001B[36m${t}\u001B[39m`,
  heading: (t) => `\u001B[1m${t}\u001B[22m`,
};

/** Keys in order, so the diff shows what differs and never where a key happened to be written. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, inner]) => [key, sortedKeys(inner)]),
    );
  }
  return value;
}

function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/** Both bodies pretty-printed when both are JSON (as the gateway compared them), else as they came. */
export function comparableBodies(main: string, shadow: string): { main: string; shadow: string; json: boolean } {
  const a = parseJson(main);
  const b = parseJson(shadow);
  if (!a || !b) return { main, shadow, json: false };
  const pretty = (value: unknown) => `${JSON.stringify(sortedKeys(value), null, 2)}\n`;
  return { main: pretty(a.value), shadow: pretty(b.value), json: true };
}

/** A unified diff of main's body (`-`) against the shadow's (`+`), with a few lines of context. */
export function bodyDiff(main: string, shadow: string, paint: Paint = plain): string[] {
  const bodies = comparableBodies(main, shadow);
  if (bodies.main === bodies.shadow) return [];
  // A body without a final newline would otherwise end in "\ No newline at end of file" lines.
  const ended = (text: string) => (text.endsWith("\n") ? text : `${text}\n`);
  const patch = structuredPatch("main", "shadow", ended(bodies.main), ended(bodies.shadow), "", "", {
    context: CONTEXT_LINES,
  });
  const lines = [paint.removed("--- main"), paint.added("+++ shadow")];
  for (const hunk of patch.hunks) {
    lines.push(paint.hunk(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`));
    for (const raw of hunk.lines) {
      // Escaped before it is painted: the paint's own escapes are the only ones that reach a terminal.
      const line = escapeControls(raw);
      if (line.startsWith("-")) lines.push(paint.removed(line));
      else if (line.startsWith("+")) lines.push(paint.added(line));
      else if (!line.startsWith("\\")) lines.push(line);
    }
  }
  return lines;
}

const quoted = (value: string | undefined) => (value === undefined ? "(none)" : escapeControls(JSON.stringify(value)));

/** One sampled exchange: the request, both statuses, the differing paths, headers that differ, the bodies' diff. */
export function formatSample(sample: DiffSample, paint: Paint = plain): string {
  const lines = [
    paint.heading(escapeControls(`${sample.method} ${sample.url}`)),
    `  at ${formatLocalTimestamp(sample.at)}, request id ${escapeControls(sample.requestId)}`,
    `  status: main ${sample.main.status}, shadow ${sample.shadow.status}`,
    `  differs at: ${sample.paths.length > 0 ? escapeControls(sample.paths.join(", ")) : "(no path recorded)"}`,
  ];
  for (const path of sample.paths) {
    if (!path.startsWith("header.")) continue;
    const name = path.slice("header.".length);
    lines.push(
      `  ${escapeControls(path)}: main ${quoted(sample.main.headers[name])}, shadow ${quoted(sample.shadow.headers[name])}`,
    );
  }
  const cut = [sample.main.truncated && "main's", sample.shadow.truncated && "the shadow's"].filter(Boolean);
  if (cut.length > 0) lines.push(`  ${cut.join(" and ")} body cut at 8 KiB`);
  const diff = bodyDiff(sample.main.body, sample.shadow.body, paint);
  if (diff.length === 0) lines.push("  bodies: the same");
  else lines.push(...diff.map((line) => `  ${line}`));
  return lines.join("\n");
}

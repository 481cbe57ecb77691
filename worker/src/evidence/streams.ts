/**
 * Streams compared event by event: a `text/event-stream` or an
 * `application/x-ndjson` body becomes one JSON document, `{ "events": [ … ] }`,
 * whose events are compared like any JSON (`body.events[].data.price`), so a
 * stream that ends early or runs on is a `length` difference at `body.events`.
 * Each event is `{ data }` (its data parsed as JSON when it is JSON), with
 * `event` and `id` when the server sent them.
 */

import { parseJsonExact } from "./json-numbers.ts";

export const STREAM_MEDIA_TYPES: ReadonlySet<string> = new Set(["text/event-stream", "application/x-ndjson"]);

export interface StreamEvent {
  data: unknown;
  event?: string;
  id?: string;
}

function dataOf(text: string): unknown {
  try {
    return parseJsonExact(text);
  } catch {
    return text;
  }
}

/**
 * The events of a server-sent event stream (WHATWG HTML §9.2.6): fields up to
 * a blank line make an event; comments and `retry` are not compared. An event
 * not ended by a blank line is not one yet, whether the stream ended or was cut.
 */
function parseEventStream(text: string): StreamEvent[] {
  const events: StreamEvent[] = [];
  let data: string[] = [];
  let event: string | undefined;
  let id: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === "") {
      if (data.length > 0) {
        events.push({
          data: dataOf(data.join("\n")),
          ...(event !== undefined && { event }),
          ...(id !== undefined && { id }),
        });
      }
      data = [];
      event = undefined;
      continue;
    }
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
    else if (field === "id") id = value;
  }
  return events;
}

/** One event per non-empty line; a last line without its newline counts only when the stream ended whole. */
function parseNdjson(text: string, cut: boolean): StreamEvent[] {
  const lines = text.split("\n");
  if (cut) lines.pop();
  const events: StreamEvent[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed !== "") events.push({ data: dataOf(trimmed) });
  }
  return events;
}

/** The stream as the document the comparison walks. */
export function streamDocument(mediaType: string, text: string, cut: boolean): { events: StreamEvent[] } {
  return { events: mediaType === "text/event-stream" ? parseEventStream(text) : parseNdjson(text, cut) };
}

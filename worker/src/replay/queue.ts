import type { CaptureLog } from "../capture/log.ts";
import type { CapturedExchange } from "../capture/record.ts";

/** One captured request to replay: its object and line. */
export interface QueueItem {
  key: string;
  line: number;
}

const parseLines = (text: string): CapturedExchange[] =>
  text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as CapturedExchange);

/** Reads capture objects, keeping the last few parsed: a replay walks them in order. */
export class CaptureReader {
  readonly #parsed = new Map<string, CapturedExchange[]>();

  constructor(readonly bucket: R2Bucket) {}

  async exchanges(key: string): Promise<CapturedExchange[]> {
    const cached = this.#parsed.get(key);
    if (cached) return cached;
    const object = await this.bucket.get(key);
    const exchanges = object ? parseLines(await object.text()) : [];
    if (this.#parsed.size >= 2) this.#parsed.delete(this.#parsed.keys().next().value ?? "");
    this.#parsed.set(key, exchanges);
    return exchanges;
  }

  async exchange(item: QueueItem): Promise<CapturedExchange | undefined> {
    return (await this.exchanges(item.key))[item.line];
  }
}

/**
 * What a replay sends, in capture order: every request captured in [from, to] whose method is allowed,
 * except those whose body was cut at capture (a cut body is another request).
 */
export async function buildQueue(
  log: DurableObjectStub<CaptureLog>,
  reader: CaptureReader,
  window: { from: number; to: number; methods: readonly string[] | null },
): Promise<QueueItem[]> {
  const items: (QueueItem & { at: number })[] = [];
  for (const object of await log.objectsBetween(window.from, window.to)) {
    const exchanges = await reader.exchanges(object.key);
    exchanges.forEach((exchange, line) => {
      const inWindow = exchange.at >= window.from && exchange.at <= window.to;
      if (
        inWindow &&
        (window.methods === null || window.methods.includes(exchange.method)) &&
        !exchange.bodyTruncated
      ) {
        items.push({ key: object.key, line, at: exchange.at });
      }
    });
  }
  items.sort((a, b) => a.at - b.at);
  return items.map(({ key, line }) => ({ key, line }));
}

// The body of GET /json4k-varied (bench/origin.ts), also built by bench/compare-micro.ts so the
// microbench compares the very documents the gateway's comparison scenarios (9a–9c) compare.
// About 4 KiB of JSON that only field rules make the same: main lists the items in order; a shadow
// lists them reversed with float dust on each price. Every answer, main's too, carries its own
// timestamp and request id, so the comparison must parse and walk every body.

/** The items array as JSON text: the same for every answer of one side. */
export function variedItems(shadowSide: boolean): string {
  return JSON.stringify(
    Array.from({ length: 36 }, (_, i) => ({
      id: i,
      name: `item-${i}`,
      price: shadowSide ? i * 1.25 * (1 + 1e-9) : i * 1.25,
      tags: ["a", "b"],
    })).sort((a, b) => (shadowSide ? b.id - a.id : a.id - b.id)),
  );
}

const PAD = "x".repeat(1_900);

/** One answer's body: the side's items, then this answer's own timestamp and request id. */
export function variedDocument(items: string, createdAt: string, requestId: string): string {
  return `{"items":${items},"createdAt":"${createdAt}","requestId":"${requestId}","pad":"${PAD}"}`;
}

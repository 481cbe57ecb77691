import { describe, expect, it } from "vitest";
import { ComparisonMemory } from "../../src/evidence/memory.ts";
import { captureBody, readCapped, splitForComparison, teeForComparison } from "../../src/proxy/capture.ts";
import { WHOLE_ANSWER_BYTES } from "../../src/small-answer.ts";

function stream(chunks: Uint8Array[]): { body: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let next = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[next++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return { body, cancelled: () => cancelled };
}

const bytes = (length: number, fill = 1) => new Uint8Array(length).fill(fill);

/** A body that sends `first`, then holds until `finish()`, which sends `rest` (if any) and ends it. */
function held(first: Uint8Array, rest?: Uint8Array): { body: ReadableStream<Uint8Array>; finish: () => void } {
  let finish = () => {};
  const ended = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(first);
      await ended;
      if (rest) controller.enqueue(rest);
      controller.close();
    },
  });
  return { body, finish: () => finish() };
}

describe("readCapped", () => {
  it("reads a body of exactly the cap, chunks joined in order", async () => {
    const { body } = stream([bytes(3, 1), bytes(2, 2)]);
    expect(await readCapped(body, 5)).toEqual({ bytes: Uint8Array.of(1, 1, 1, 2, 2), reserved: 0 });
  });

  it("cancels a body at the cap, so it holds no connection", async () => {
    const source = stream([bytes(3), bytes(3), bytes(3)]);
    expect(await readCapped(source.body, 5)).toEqual({ incomplete: "over cap", reserved: 0 });
    expect(source.cancelled()).toBe(true);
  });

  it("gives up on a body still arriving after the time limit, and cancels it", async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes(1));
      },
      cancel() {
        cancelled = true;
      },
    });
    expect(await readCapped(endless, 100, 50)).toEqual({ incomplete: "unreadable", reserved: 0 });
    expect(cancelled).toBe(true);
  });
});

describe("captureBody", () => {
  it("reads an event stream up to the cap and keeps what it read, marked cut, then cancels it", async () => {
    for (const type of ["text/event-stream", "application/x-ndjson; charset=utf-8"]) {
      const source = stream([bytes(6), bytes(6), bytes(6)]);
      const memory = new ComparisonMemory(1_000);
      const response = new Response(source.body, { headers: { "content-type": type } });
      const captured = await captureBody(response, 10, memory);
      expect(captured).toEqual({ bytes: bytes(6), cut: true, reserved: 10 });
      expect(source.cancelled()).toBe(true);
      expect(memory.used).toBe(10);
    }
  });

  it("cancels a body declared over the cap where nothing can hash it (plain Node), holding no memory", async () => {
    const source = stream([bytes(6), bytes(6), bytes(6)]);
    const memory = new ComparisonMemory(1_000);
    const captured = await captureBody(new Response(source.body, { headers: { "content-length": "18" } }), 10, memory);
    expect(captured).toEqual({ incomplete: "over cap", reserved: 0 });
    expect(source.cancelled()).toBe(true);
    expect(memory.used).toBe(0);
  });

  it("reads a body of declared length whole, and a broken one as unreadable", async () => {
    const memory = new ComparisonMemory(1_000);
    const whole = await captureBody(
      new Response(stream([bytes(3, 1), bytes(2, 2)]).body, { headers: { "content-length": "5" } }),
      10,
      memory,
    );
    expect(whole).toEqual({ bytes: Uint8Array.of(1, 1, 1, 2, 2), reserved: 5 });
    memory.release(whole.reserved);
    const reset = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error("connection reset"));
      },
    });
    const broken = await captureBody(new Response(reset, { headers: { "content-length": "5" } }), 10, memory);
    expect(broken).toEqual({ incomplete: "unreadable", reserved: 0 });
    // A body longer than it declared (HTTP framing prevents it; a Response built by hand does not) is over the cap.
    const longer = new Response(stream([bytes(8), bytes(8)]).body, { headers: { "content-length": "5" } });
    expect(await captureBody(longer, 10, memory)).toEqual({ incomplete: "over cap", reserved: 0 });
    expect(memory.used).toBe(0);
  });

  it("reads a body within its declared length whole, and one that runs past it as over the cap, holding nothing", async () => {
    const memory = new ComparisonMemory(1_000);
    const chunks = [bytes(40, 1), bytes(40, 2), bytes(20, 3)];
    const whole = await captureBody(
      new Response(stream(chunks).body, { headers: { "content-length": "100" } }),
      1_000,
      memory,
    );
    expect(whole.bytes).toEqual(Uint8Array.from(chunks.flatMap((chunk) => [...chunk])));
    expect(whole.reserved).toBe(100);
    memory.release(whole.reserved);
    // Under the cap, but longer than declared: its reservation would not cover it.
    const longer = new Response(stream(chunks).body, { headers: { "content-length": "60" } });
    expect(await captureBody(longer, 1_000, memory)).toEqual({ incomplete: "over cap", reserved: 0 });
    expect(memory.used).toBe(0);
  });

  it("stops at the cap whatever Content-Length says: a decoded body can be far longer than its encoded length", async () => {
    // As the runtime hands over a small gzip answer that decodes without end: 8 bytes declared.
    let read = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        read += 1_024;
        controller.enqueue(bytes(1_024));
      },
      cancel() {
        cancelled = true;
      },
    });
    const memory = new ComparisonMemory(100_000);
    const headers = { "content-length": "8", "content-encoding": "gzip" };
    const captured = await captureBody(new Response(endless, { headers }), 10_000, memory);
    expect(captured).toEqual({ incomplete: "over cap", reserved: 0 });
    expect(cancelled).toBe(true);
    expect(read).toBeLessThan(20_000);
    expect(memory.used).toBe(0);
  });

  it("holds the cap of the memory bound for an encoded body, whose decoded size its length does not tell", async () => {
    const memory = new ComparisonMemory(100_000);
    const headers = { "content-length": "5", "content-encoding": "gzip" };
    const captured = await captureBody(new Response(bytes(5), { headers }), 1_000, memory);
    expect(captured).toMatchObject({ reserved: 1_000 });
    expect(memory.used).toBe(1_000);
  });

  it("holds the body's declared size of the memory bound until released, and refuses past the bound", async () => {
    const memory = new ComparisonMemory(150);
    const first = await captureBody(new Response(bytes(100), { headers: { "content-length": "100" } }), 1_000, memory);
    expect(first).toMatchObject({ reserved: 100 });
    expect(memory.used).toBe(100);
    const second = await captureBody(new Response(bytes(100), { headers: { "content-length": "100" } }), 1_000, memory);
    expect(second).toEqual({ incomplete: "memory", reserved: 0 });
    memory.release(first.reserved);
    expect(memory.used).toBe(0);
  });
});

describe("teeForComparison", () => {
  it("gives the client every byte while the other branch stops at the cap", async () => {
    const memory = new ComparisonMemory(1_000);
    const { client, body } = teeForComparison(new Response(stream([bytes(4), bytes(4), bytes(4)]).body), 6, memory);
    expect(new Uint8Array(await client.arrayBuffer())).toEqual(bytes(12));
    expect(await body).toEqual({ incomplete: "over cap", reserved: 0 });
    expect(memory.used).toBe(0);
  });

  it("tees an event stream: the client gets all of it, the comparison what came within the cap", async () => {
    const response = new Response("data: x\n\n", { headers: { "content-type": "text/event-stream" } });
    const { client, body } = teeForComparison(response, 100, new ComparisonMemory(1_000));
    expect(await client.text()).toBe("data: x\n\n");
    expect(await body).toEqual({ bytes: new TextEncoder().encode("data: x\n\n"), reserved: 100 });
  });
});

describe("splitForComparison", () => {
  const declared = (body: BodyInit, length: number, headers: Record<string, string> = {}) =>
    new Response(body, { status: 201, headers: { "content-length": String(length), "x-main": "1", ...headers } });

  it("reads a small declared body whole: the client and the comparison get the same bytes", async () => {
    const memory = new ComparisonMemory(100_000);
    const { client, body } = await splitForComparison(declared(bytes(4096, 7), 4096), 262_144, memory);
    expect(client.status).toBe(201);
    expect(client.headers.get("x-main")).toBe("1");
    expect(new Uint8Array(await client.arrayBuffer())).toEqual(bytes(4096, 7));
    expect(await body).toEqual({ bytes: bytes(4096, 7), reserved: 4096 });
    expect(memory.used).toBe(4096);
  });

  it("reads a small body that comes in several chunks at once whole, as the runtime reads 4 KiB at a time", async () => {
    const memory = new ComparisonMemory(100_000);
    const chunks = [bytes(4096, 1), bytes(4096, 2), bytes(100, 3)];
    let pulls = 0;
    const chunked = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks[pulls++];
        if (chunk) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const { client, body } = await splitForComparison(declared(chunked, 8292), 262_144, memory);
    expect(pulls).toBe(4);
    // Nothing is left to read for the comparison: a tee's branch would still be read.
    expect(await Promise.race([body, Promise.resolve("still reading")])).not.toBe("still reading");
    const whole = new Uint8Array([...bytes(4096, 1), ...bytes(4096, 2), ...bytes(100, 3)]);
    expect(await body).toEqual({ bytes: whole, reserved: 8292 });
    expect(new Uint8Array(await client.arrayBuffer())).toEqual(whole);
  });

  it("gives the client main's headers and then the break when a small body breaks, and keeps no memory", async () => {
    const memory = new ComparisonMemory(100_000);
    const breaking = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes(10));
        controller.error(new Error("connection reset"));
      },
    });
    const { client, body } = await splitForComparison(declared(breaking, 100), 262_144, memory);
    expect(client.status).toBe(201);
    expect(client.headers.get("x-main")).toBe("1");
    await expect(client.arrayBuffer()).rejects.toThrow();
    expect(await body).toEqual({ incomplete: "unreadable", reserved: 0 });
    expect(memory.used).toBe(0);
  });

  it("sends a small body's headers once it is late, the bytes when they come, and stops the comparison at its limit", async () => {
    const late = held(bytes(8), bytes(8, 2));
    const memory = new ComparisonMemory(1_000);
    const { client, body } = await splitForComparison(declared(late.body, 16), 262_144, memory, 50, 20);
    expect(client.status).toBe(201);
    expect(await body).toEqual({ incomplete: "unreadable", reserved: 0 });
    expect(memory.used).toBe(0);
    late.finish();
    expect(new Uint8Array(await client.arrayBuffer())).toEqual(new Uint8Array([...bytes(8), ...bytes(8, 2)]));
  });

  // Each of these must still stream: the split returns while the body is still arriving.
  it.each([
    ["declared over 16 KiB", { "content-length": String(WHOLE_ANSWER_BYTES + 1) }],
    ["not declared", {}],
    ["compressed", { "content-length": "64", "content-encoding": "gzip" }],
    ["an event stream", { "content-length": "64", "content-type": "text/event-stream" }],
  ])("tees a body %s: the client gets its first bytes before the rest arrives", async (_, headers) => {
    const slow = held(bytes(8));
    const response = new Response(slow.body, { headers });
    const { client } = await splitForComparison(response, 262_144, new ComparisonMemory(1_000_000));
    const reader = client.body?.getReader();
    expect((await reader?.read())?.value).toEqual(bytes(8));
    slow.finish();
    expect((await reader?.read())?.done).toBe(true);
  });
});

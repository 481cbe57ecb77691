import { describe, expect, it } from "vitest";
import { readBodyForMirroring } from "../../src/proxy/body.ts";

/** A stream that counts how many chunks were pulled from it, and pulls only when read (no read-ahead). */
function countingStream(chunks: Uint8Array[]) {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[pulled];
        if (!chunk) return controller.close();
        pulled++;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled };
}

const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);
const collect = async (body: Blob | ReadableStream<Uint8Array> | null) =>
  new Uint8Array(await new Response(body).arrayBuffer());

describe("readBodyForMirroring", () => {
  it("mirrors no body as no body", async () => {
    expect(await readBodyForMirroring(null, null, 10)).toEqual({ mirrored: true, body: null });
  });

  it("reads a body within the cap into one Blob with the same bytes", async () => {
    const { stream } = countingStream([bytes(3, 1), bytes(4, 2)]);
    const result = await readBodyForMirroring(stream, null, 7);
    expect(result.mirrored).toBe(true);
    expect(result.body).toBeInstanceOf(Blob);
    expect(await collect(result.body)).toEqual(Uint8Array.from([1, 1, 1, 2, 2, 2, 2]));
  });

  it("does not read a body whose Content-Length is over the cap", async () => {
    const { stream, pulled } = countingStream([bytes(8, 1)]);
    const result = await readBodyForMirroring(stream, "8", 7);
    expect(result).toEqual({ mirrored: false, body: stream });
    expect(pulled()).toBe(0);
  });

  it("stops reading once a stream grows past the cap, and replays every byte in order", async () => {
    const chunks = [bytes(4, 1), bytes(4, 2), bytes(4, 3), bytes(4, 4)];
    const { stream, pulled } = countingStream(chunks);
    const result = await readBodyForMirroring(stream, null, 6);
    expect(result.mirrored).toBe(false);
    expect(pulled()).toBe(2);
    expect(await collect(result.body)).toEqual(Uint8Array.from(chunks.flatMap((c) => [...c])));
  });
});

describe("readBodyForMirroring, when the client's upload breaks", () => {
  it("answers 400 naming the body, not a 500", async () => {
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(3));
        controller.error(new Error("client went away"));
      },
    });
    const failure = readBodyForMirroring(broken, null, 1024);
    await expect(failure).rejects.toMatchObject({ status: 400, code: "body_unreadable" });
  });
});

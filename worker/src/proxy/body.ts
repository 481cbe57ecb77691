import { AppError, reasonOf } from "../errors.ts";

/** A request body as it will be sent on: the same bytes for every copy, or a stream for main alone. */
export type ForwardBody = { mirrored: true; body: Blob | null } | { mirrored: false; body: ReadableStream<Uint8Array> };

/**
 * Reads a body once, up to `cap` bytes, into one Blob that main and every
 * shadow send (a Blob body is not copied per request, so memory stays at the
 * cap whatever the number of shadows). A body declared larger than the cap is
 * not read at all; a stream that grows past it mid-read is replayed to main
 * from the chunks already read, then the rest.
 */
export async function readBodyForMirroring(
  body: ReadableStream<Uint8Array> | null,
  contentLength: string | null,
  cap: number,
): Promise<ForwardBody> {
  if (body === null) return { mirrored: true, body: null };
  if (contentLength !== null) {
    if (Number(contentLength) > cap) return { mirrored: false, body };
    // The runtime holds a request to its declared length, so the body fits: one read beats a loop over chunks.
    return { mirrored: true, body: await fromClient(new Response(body).blob()) };
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await fromClient(reader.read());
    if (done) return { mirrored: true, body: new Blob(chunks) };
    chunks.push(value);
    size += value.byteLength;
    if (size > cap) return { mirrored: false, body: replay(chunks, reader) };
  }
}

/** A client whose upload breaks gets a 400 that says so, not a 500. */
async function fromClient<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    throw new AppError(400, "body_unreadable", `The request body could not be read: ${reasonOf(error)}`);
  }
}

function replay(chunks: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      chunks.length = 0;
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * A running SHA-256 of a body read past the comparison cap: the chunks go
 * into workerd's DigestStream as they arrive, and only the digest is kept,
 * so a 400 KB answer is still compared for equality in constant memory.
 */

/**
 * Past this many bytes a body is not hashed either: it is `notCompared`, over the cap. Hashing
 * reads a body to its end, and main's compared branch would hold main's connection that long
 * after its client hung up; 4 MiB bounds that (and the CPU a digest costs) for downloads.
 */
export const MAX_HASHED_BYTES = 4 * 1024 * 1024;

export class BodyDigest {
  readonly #stream: DigestStream;
  readonly #writer: WritableStreamDefaultWriter<ArrayBuffer | ArrayBufferView>;
  bytes = 0;

  private constructor(stream: DigestStream) {
    this.#stream = stream;
    this.#writer = stream.getWriter();
    // An aborted digest rejects `digest` with the abort's reason (none); finish() awaits it when it
    // matters, and otherwise nobody does, so it is marked handled here rather than left unhandled.
    stream.digest.catch(() => undefined);
  }

  /** A new digest, or undefined where the runtime has no DigestStream (plain Node, in unit tests). */
  static start(): BodyDigest | undefined {
    const Digest = (crypto as { DigestStream?: typeof DigestStream }).DigestStream;
    return Digest ? new BodyDigest(new Digest("SHA-256")) : undefined;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.bytes += chunk.byteLength;
    await this.#writer.write(chunk);
  }

  /** The hex SHA-256 of everything written. */
  async finish(): Promise<string> {
    await this.#writer.close();
    const digest = new Uint8Array(await this.#stream.digest);
    return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  abort(): void {
    this.#writer.abort().catch(() => undefined);
  }
}

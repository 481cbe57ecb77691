// Main's small answers, read whole instead of tee'd, for the comparison (proxy/capture.ts) and the
// capture log (capture/tap.ts). Such a body usually comes with its headers (a new connection's first
// flight is about 14 KiB), and the runtime then sends the client plain bytes instead of a branch of
// a tee: in `npm run bench` scenario 9a (4 KiB JSON, 3 shadows) the tee was a fifth of a compared
// request's CPU (bench/RESULTS.md, wave 8).

/** Answers declared at most this long, and not decoded, are read whole. */
export const WHOLE_ANSWER_BYTES = 16 * 1024;
/**
 * The longest a small answer's headers wait for its body: past it they go, and the body follows
 * whole. Long, because a busy isolate runs its timers late: at 10 ms, a body that had come
 * could lose the race to the timer exactly when the CPU was shortest.
 */
export const WHOLE_ANSWER_WAIT_MS = 1_000;

/** Whether the runtime hands over the bytes as sent: it undoes any other Content-Encoding as it reads. */
export function decodedAsSent(headers: Headers): boolean {
  const encoding = headers.get("content-encoding")?.trim().toLowerCase();
  return encoding === undefined || encoding === "" || encoding === "identity";
}

/**
 * A body whose length is declared, within `cap`, and handed over as sent: HTTP framing holds it to
 * that length, so it can be read whole in one call (workerd reads it natively; a chunk loop in
 * JavaScript costs a promise and a copy per chunk on the isolate's thread).
 */
export function declaredWithinCap(headers: Headers, cap: number): boolean {
  const declared = Number(headers.get("content-length") ?? Number.NaN);
  return Number.isFinite(declared) && declared >= 0 && declared <= cap && decodedAsSent(headers);
}

type Settled<T> = { value: T } | { error: unknown } | undefined;

/** How a promise settled within `ms` (no limit when 0); undefined if it had not. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  const outcome = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (ms <= 0) return outcome;
  let stop = () => {};
  const late = new Promise<undefined>((resolve) => {
    const timer = setTimeout(resolve, ms);
    stop = () => clearTimeout(timer);
  });
  try {
    return await Promise.race([outcome, late]);
  } finally {
    stop();
  }
}

/** A body that is the bytes once they have come, or the failure that kept them. */
const streamOf = (bytes: Promise<Uint8Array>): ReadableStream<Uint8Array> =>
  new ReadableStream({
    async start(controller) {
      const arrived = await settledWithin(bytes, 0);
      if (arrived && "value" in arrived) {
        controller.enqueue(arrived.value);
        controller.close();
      } else controller.error(arrived?.error);
    },
  });

/**
 * Reads a small answer (see declaredWithinCap) whole, in one native call. `client` is what the
 * client gets: the bytes, once they have come, or after `waitMs` the headers and then the bytes
 * when they come; a body that breaks reaches it as headers and then the break. `bytes` is the body
 * for the reader's own use, or undefined when it broke or took longer than `limitMs` (counted from
 * now; 0 for no limit).
 */
export async function readSmallAnswer(
  response: Response,
  waitMs = WHOLE_ANSWER_WAIT_MS,
  limitMs = 0,
): Promise<{ client: Response; bytes: Promise<Uint8Array | undefined> }> {
  const whole = response.arrayBuffer().then((buffer) => new Uint8Array(buffer));
  const early = await settledWithin(whole, waitMs);
  if (early && "value" in early) {
    return { client: new Response(early.value, response), bytes: Promise.resolve(early.value) };
  }
  const client = new Response(streamOf(whole), response);
  if (early || (limitMs > 0 && limitMs <= waitMs)) return { client, bytes: Promise.resolve(undefined) };
  const late = settledWithin(whole, limitMs > 0 ? limitMs - waitMs : 0);
  return { client, bytes: late.then((read) => (read && "value" in read ? read.value : undefined)) };
}

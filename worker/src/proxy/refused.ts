import { connect } from "cloudflare:sockets";

/**
 * Whether an origin refuses connections right now: its port cannot be connected to within
 * `timeoutMs`. The runtime's fetch says "Network connection lost." alike for a refused connection
 * (nothing was sent) and for one the origin dropped after reading the request (it may have acted),
 * so after a failed fetch this is how the gateway tells the two apart. A connection that opens,
 * or is still pending at `timeoutMs`, or that the runtime will not even try, is not a refusal.
 */
export async function refusesConnections(origin: string, timeoutMs: number): Promise<boolean> {
  const url = new URL(origin);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  let socket: ReturnType<typeof connect>;
  try {
    socket = connect({ hostname: url.hostname, port });
  } catch {
    return false;
  }
  // A refused socket rejects both `opened` and `closed`; each is handled here, so neither rejection
  // goes unhandled (nor `opened`'s when the timer wins the race).
  socket.closed.catch(() => undefined);
  const opened = socket.opened.then(
    () => false,
    () => true,
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([opened, pending]);
  } finally {
    clearTimeout(timer);
    socket.close().catch(() => undefined);
  }
}

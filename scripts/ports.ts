// Ports for test worlds and the bench. A "free" port is one to listen on next; a "dead" port is one that must
// keep refusing connections for as long as a test relies on it.
import { connect, createServer } from "node:net";

/** A TCP port on 127.0.0.1 that nothing listens on right now (bound, then released): for a listener started next. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/*
 * A released ephemeral port is not dead: any process that binds port 0 next (workerd, wrangler, a parallel test
 * project) may be handed it, and the "refused" origin then answers. Ports below 1024 are never handed out by
 * bind(0), and nothing in this project listens on these, so each one stays refused. None is on fetch's list of
 * "bad ports" either, which fetch refuses without connecting: these fail as a dead origin does, ECONNREFUSED.
 */
const DEAD_PORT_CANDIDATES = [2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 24, 26, 27, 28, 29, 30, 31, 32, 33];
let nextCandidate = 0;

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

/** A port on 127.0.0.1 that refuses connections and that no other process can take meanwhile; distinct per call. */
export async function deadPort(): Promise<number> {
  while (nextCandidate < DEAD_PORT_CANDIDATES.length) {
    const port = DEAD_PORT_CANDIDATES[nextCandidate++] as number;
    if (await refuses(port)) return port;
  }
  throw new Error(`no refusing port left among ${DEAD_PORT_CANDIDATES.join(", ")} on 127.0.0.1`);
}

// A CPU profile of the gateway's Worker, taken through the inspector that wrangler
// dev exposes (Chrome DevTools Protocol over a WebSocket).
import type { CpuProfile } from "./profile-summary.ts";

/** Fine enough to see a few hundred microseconds of work per request, coarse enough not to swamp it. */
export const PROFILE_INTERVAL_US = 200;

interface Reply {
  id?: number;
  result?: unknown;
  error?: { message: string };
}

class DevtoolsSession {
  #next = 0;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  readonly #socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener("message", (event) => {
      const reply = JSON.parse(String(event.data)) as Reply;
      if (reply.id === undefined) return;
      const waiter = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (reply.error) waiter?.reject(new Error(reply.error.message));
      else waiter?.resolve(reply.result);
    });
  }

  static async open(inspectorPort: number): Promise<DevtoolsSession> {
    // wrangler's inspector proxy only admits local origins.
    const socket = new WebSocket(`ws://127.0.0.1:${inspectorPort}/ws`, { headers: { origin: "http://localhost" } });
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error(`No inspector on port ${inspectorPort}`)), {
        once: true,
      });
    });
    return new DevtoolsSession(socket);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.#socket.close();
  }
}

/** Samples the Worker's JavaScript every `intervalUs` while `during` runs. */
export async function profileWorker(
  inspectorPort: number,
  during: () => Promise<void>,
  intervalUs = PROFILE_INTERVAL_US,
): Promise<CpuProfile> {
  const session = await DevtoolsSession.open(inspectorPort);
  try {
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await session.send("Profiler.start");
    await during();
    const { profile } = (await session.send("Profiler.stop")) as { profile: CpuProfile };
    return profile;
  } finally {
    session.close();
  }
}

/** The Worker isolate's JavaScript heap in use, MB, or null when the inspector does not answer. */
export async function heapUsedMb(inspectorPort: number): Promise<number | null> {
  let session: DevtoolsSession | undefined;
  try {
    session = await DevtoolsSession.open(inspectorPort);
    const usage = (await Promise.race([
      session.send("Runtime.getHeapUsage"),
      new Promise((_, reject) => setTimeout(() => reject(new Error("no answer")), 5_000)),
    ])) as { usedSize: number };
    return usage.usedSize / (1024 * 1024);
  } catch {
    return null;
  } finally {
    session?.close();
  }
}

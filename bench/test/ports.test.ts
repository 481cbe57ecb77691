import { connect, createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { deadPort, freePort } from "../../scripts/ports.ts";

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("test ports", () => {
  it("hands out distinct dead ports that stay refused while other processes bind port 0", async () => {
    const dead = [await deadPort(), await deadPort()];
    expect(new Set(dead).size).toBe(2);
    // What workerd or a parallel project does meanwhile: take whatever ephemeral ports the kernel hands out.
    const taken: Server[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const server = createServer();
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        taken.push(server);
      }
      const ports = taken.map((server) => (server.address() as { port: number }).port);
      for (const port of dead) {
        expect(ports).not.toContain(port);
        expect(await connects(port)).toBe(false);
        // Refused by the network, as a dead origin is, not by fetch's own list of ports it never calls.
        const failure = await fetch(`http://127.0.0.1:${port}/`).then(
          () => undefined,
          (error: Error) => error,
        );
        expect((failure?.cause as NodeJS.ErrnoException | undefined)?.code).toBe("ECONNREFUSED");
      }
    } finally {
      await Promise.all(taken.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });

  it("hands out dead ports that fetch tries and finds refused, never one it calls a bad port", async () => {
    const port = await deadPort();
    const failure = await fetch(`http://127.0.0.1:${port}/`).then(
      () => "answered",
      (error: Error & { cause?: { code?: string; message?: string } }) => error.cause?.code ?? error.cause?.message,
    );
    expect(failure).toBe("ECONNREFUSED");
  });

  it("hands out a free port that can be listened on", async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    expect(await connects(port)).toBe(true);
    await new Promise((resolve) => server.close(resolve));
  });
});

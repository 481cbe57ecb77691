import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface SwitchableOrigin {
  /** The origin itself: answers 200 while up, refuses connections while down. */
  url: string;
  /** POST <control>/down and <control>/up switch it; tests in workerd reach it over HTTP. */
  control: string;
  close(): Promise<void>;
}

/** An origin a test can take down and bring back on the same port. */
export async function startSwitchableOrigin(): Promise<SwitchableOrigin> {
  const origin = createServer((_, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("up");
  });
  await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
  const { port } = origin.address() as AddressInfo;

  const down = () =>
    new Promise<void>((resolve) => {
      if (!origin.listening) return resolve();
      origin.closeAllConnections();
      origin.close(() => resolve());
    });
  const up = () =>
    new Promise<void>((resolve) => {
      if (origin.listening) return resolve();
      origin.listen(port, "127.0.0.1", resolve);
    });

  const control = createServer(async (req, res) => {
    if (req.url === "/down") await down();
    else if (req.url === "/up") await up();
    res.writeHead(204);
    res.end();
  });
  await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
  const controlPort = (control.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    control: `http://127.0.0.1:${controlPort}`,
    close: async () => {
      await down();
      control.closeAllConnections();
      await new Promise<void>((resolve) => control.close(() => resolve()));
    },
  };
}

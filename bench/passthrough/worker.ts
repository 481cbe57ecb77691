// The ceiling for the gateway: a Worker that forwards each request to one origin and
// returns its response, with no routing, header work or mirroring. Under /mirror/ it
// also sends each origin in SHADOWS (comma-separated) a copy in waitUntil and reads
// the copy's answer: the least any Worker that shadows traffic must do.
interface Env {
  ORIGIN: string;
  SHADOWS?: string;
}

const MIRROR_PREFIX = "/mirror";

export default {
  fetch(request: Request, env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }): Promise<Response> {
    const incoming = new URL(request.url);
    if (!incoming.pathname.startsWith(`${MIRROR_PREFIX}/`) || !env.SHADOWS) {
      return fetch(new URL(incoming.pathname + incoming.search, env.ORIGIN), request);
    }
    const target = incoming.pathname.slice(MIRROR_PREFIX.length) + incoming.search;
    for (const shadow of env.SHADOWS.split(",")) {
      const copy = fetch(new URL(target, shadow), { method: request.method, headers: request.headers });
      ctx.waitUntil(copy.then((answer) => answer.arrayBuffer()).catch(() => undefined));
    }
    return fetch(new URL(target, env.ORIGIN), request);
  },
};

// The ceiling for the gateway: a Worker that forwards each request to one origin and
// returns its response, with no routing, header work or mirroring.
export default {
  fetch(request: Request, env: { ORIGIN: string }): Promise<Response> {
    const incoming = new URL(request.url);
    return fetch(new URL(incoming.pathname + incoming.search, env.ORIGIN), request);
  },
};

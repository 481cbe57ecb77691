import { describe, expect, inject, it } from "vitest";
import { deploy, gateway, uniqueName, withVars } from "./proxy-helpers.ts";

const origins = inject("origins");
const ADMIN = { ADMIN_HOSTNAME: "admin.gateway.test" };
const auth = { authorization: "Bearer test-token" };

/** One request to the worker with ADMIN_HOSTNAME set, on the given host. */
async function onHost(host: string, path: string, init?: RequestInit): Promise<Response> {
  const { response } = await withVars(ADMIN, new Request(`https://${host}${path}`, init));
  return response;
}

describe("ADMIN_HOSTNAME", () => {
  it("serves the admin API, the dashboard and / on the admin host, and no service there", async () => {
    const name = uniqueName("adminhost");
    await deploy(name, "1.0.0", origins.v1);
    const api = await onHost("admin.gateway.test", `/api/v1/services?name=${name}`, { headers: auth });
    expect(api.status).toBe(200);
    expect(((await api.json()) as { services: unknown[] }).services).toHaveLength(1);
    const dashboard = await onHost("admin.gateway.test", "/dashboard/");
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain("<html");
    const root = await onHost("admin.gateway.test", "/");
    expect(root.status).toBe(302);
    await root.body?.cancel();

    const service = await onHost("admin.gateway.test", `/services/${name}/`);
    expect(service.status).toBe(404);
    expect(await service.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("answers 404 for every admin path on any other host, and serves services there", async () => {
    const name = uniqueName("publichost");
    await deploy(name, "1.0.0", origins.v1);
    for (const path of ["/", "/dashboard/", "/dashboard", "/api/v1/services", "/api/v1/openapi.json"]) {
      const response = await onHost("gateway.test", path, { headers: auth });
      expect(response.status, path).toBe(404);
      await response.body?.cancel();
    }
    const service = await onHost("gateway.test", `/services/${name}/`);
    expect(service.status).toBe(200);
    expect(await service.json()).toMatchObject({ version: "1.0.0" });
  });

  it("serves both on one host when it is empty, as in local development", async () => {
    const name = uniqueName("onehost");
    await deploy(name, "1.0.0", origins.v1);
    expect((await gateway(`/services/${name}/`)).status).toBe(200);
    const api = await gateway("/api/v1/services", { headers: auth });
    expect(api.status).toBe(200);
    await api.body?.cancel();
  });
});

describe("Service-Worker-Allowed", () => {
  it("never reaches the client from a proxied response, main's or a pinned version's", async () => {
    const name = uniqueName("swallowed");
    await deploy(name, "1.0.0", origins.v1);
    await deploy(name, "2.0.0", origins.v2);
    for (const path of [`/services/${name}/sw.js`, `/services/${name}_2.0.0/sw.js`]) {
      const response = await gateway(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type"), path).toBe("text/javascript");
      expect(response.headers.has("service-worker-allowed"), path).toBe(false);
      expect(await response.text()).toContain("addEventListener");
    }
    // The origin does send it: the gateway is what removes it.
    const direct = await fetch(`${origins.v1}/x/sw.js`);
    expect(direct.headers.get("service-worker-allowed")).toBe("/");
    await direct.body?.cancel();
  });
});

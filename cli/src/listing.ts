import type { AdminApiClient, ServiceRecord } from "./client.ts";

/** Versions of every name, of one name, or one (name, version); the API filters by name, the CLI by version. */
export async function listMatching(api: AdminApiClient, name?: string, version?: string): Promise<ServiceRecord[]> {
  const services = await api.listServices(name);
  return version === undefined ? services : services.filter((service) => service.version === version);
}

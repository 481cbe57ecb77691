import type { Outcome } from "../coordinator/outcome.ts";
import type { ServiceCoordinator } from "../coordinator/ServiceCoordinator.ts";
import type { Env } from "../env.ts";
import { AppError } from "../errors.ts";
import { forgetRoutes } from "../proxy/route-table.ts";

/** Every write of a name goes through that name's coordinator, which answers with data, not errors. */
export async function coordinate<T>(
  env: Env,
  name: string,
  operation: (coordinator: DurableObjectStub<ServiceCoordinator>) => Promise<Outcome<T>>,
): Promise<T> {
  const outcome = await operation(env.SERVICE_COORDINATOR.getByName(name));
  forgetRoutes(name);
  if (!outcome.ok) throw AppError.fromBody(outcome.status, outcome.body);
  return outcome.value;
}

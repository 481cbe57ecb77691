import type { TestProject } from "vitest/node";
import { deadPort, startOrigin } from "../support/origins.ts";

declare module "vitest" {
  export interface ProvidedContext {
    origins: { v1: string; v2: string; v3: string; dead: string };
  }
}

/** Real Node origins on 127.0.0.1 for the workerd tests; their URLs reach the tests through `inject`. */
export default async function setup(project: TestProject) {
  const v1 = await startOrigin({ version: "1.0.0" });
  const v2 = await startOrigin({ version: "2.0.0" });
  const v3 = await startOrigin({ version: "3.0.0", status: 503 });
  project.provide("origins", {
    v1: v1.url,
    v2: v2.url,
    v3: v3.url,
    dead: `http://127.0.0.1:${await deadPort()}`,
  });
  return async () => {
    await Promise.all([v1.close(), v2.close(), v3.close()]);
  };
}

import type { TestProject } from "vitest/node";
import { startSwitchableOrigin } from "../support/switchable-origin.ts";

declare module "vitest" {
  export interface ProvidedContext {
    switchable: { url: string; control: string };
  }
}

export default async function setup(project: TestProject) {
  const origin = await startSwitchableOrigin();
  project.provide("switchable", { url: origin.url, control: origin.control });
  return () => origin.close();
}

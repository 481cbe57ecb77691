import { readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Test files' seconds in a clean clone's `npm test`, written by scripts/test-durations.mjs. */
const durationsFile = join(import.meta.dirname, "test-durations.json");

/**
 * Runs each project's longest files first, so that no 40 s file starts last and runs alone at the end.
 * On a clean clone vitest has no timings of its own and starts the largest files first, which put a
 * 22 s file among the last; here a file's time is the committed one, else guessed from its size (about
 * a second per kilobyte of test source, as the listed files roughly take).
 */
export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds: Record<string, number> = JSON.parse(readFileSync(durationsFile, "utf8"));
    const expected = (spec: TestSpecification) =>
      seconds[relative(spec.project.config.root, spec.moduleId)] ?? statSync(spec.moduleId).size / 1000;
    return [...files].sort((a, b) => {
      const group = a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder;
      if (group !== 0) return group;
      if (a.project.name !== b.project.name) return a.project.name < b.project.name ? -1 : 1;
      return expected(b) - expected(a);
    });
  }
}

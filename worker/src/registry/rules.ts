// The rules and their tags (I1–I6) are written out in docs/rules.md.
import { AppError } from "../errors.ts";

/** What a rule needs to know about one version of a name. */
export interface VersionState {
  version: string;
  main: boolean;
}

const describe = (name: string, version: string) => `${name} ${version}`;

/** I2 and I5: the first version of a name is main, later ones are shadows, and no version is deployed twice. */
export function decideDeploy(existing: readonly VersionState[], name: string, version: string): { main: boolean } {
  if (existing.some((v) => v.version === version)) {
    throw new AppError(
      409,
      "version_exists",
      `${describe(name, version)} is already deployed; kill it first or deploy another version`,
    );
  }
  return { main: existing.length === 0 };
}

/** I6: assigning an unknown version is 404, assigning the current main changes nothing. */
export function decideAssign(
  existing: readonly VersionState[],
  name: string,
  version: string,
): { change: false } | { change: true; previousMain: string | undefined } {
  const target = existing.find((v) => v.version === version);
  if (!target) {
    throw existing.length === 0
      ? new AppError(404, "service_not_found", `No service named ${name}`)
      : new AppError(404, "version_not_found", `${describe(name, version)} is not deployed`);
  }
  if (target.main) return { change: false };
  return { change: true, previousMain: existing.find((v) => v.main)?.version };
}

/** I3 and I4: shadows can always go, a main only when it is the last version. */
export function decideKillVersion(existing: readonly VersionState[], name: string, version: string): void {
  const target = existing.find((v) => v.version === version);
  if (!target) {
    throw existing.length === 0
      ? new AppError(404, "service_not_found", `No service named ${name}`)
      : new AppError(404, "version_not_found", `${describe(name, version)} is not deployed`);
  }
  if (!target.main) return;
  const shadows = existing.filter((v) => !v.main).map((v) => describe(name, v.version));
  if (shadows.length > 0) {
    throw new AppError(
      403,
      "main_has_shadows",
      `Cannot kill main ${describe(name, version)} while it has shadows (${shadows.join(", ")}); ` +
        `assign another main first, or kill all versions of ${name} at once by name`,
    );
  }
}

/** I4: killing by name takes every version at once; an unknown name is 404. */
export function decideKillName(existing: readonly VersionState[], name: string): void {
  if (existing.length === 0) throw new AppError(404, "service_not_found", `No service named ${name}`);
}

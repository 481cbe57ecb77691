import type { Difference, DiffKind } from "../compare.ts";

/*
 * Why signatures: a request is `different` when at least one of its
 * differences counts, and whether a field counts depends on the ignore list
 * and the noise on the request's route at read time. Per-field counts alone
 * cannot say how many requests that is (two fields may differ on the same
 * requests or on different ones). So the ledger keeps, per (version,
 * minute), how many requests had each distinct route and set of
 * differences — the signature — and the report decides per signature.
 * Ignoring a path later corrects past windows exactly. A signature is the
 * route, a tab, then the sorted `path kind` pairs joined by newlines (paths
 * never hold a raw newline or tab: odd keys are JSON-quoted; routes are URL
 * paths, which hold neither).
 */

/** `path kind`, the key of a field in signatures. */
export const fieldKey = (d: Difference) => `${d.path} ${d.kind}`;

export function signatureOf(differences: readonly Difference[], route = ""): string {
  return `${route}\t${differences.map(fieldKey).sort().join("\n")}`;
}

/** The differences of a signature (one written before routes had none before its fields). */
export function parseSignature(signature: string): Difference[] {
  const fields = signature.slice(signature.indexOf("\t") + 1);
  if (fields === "") return [];
  return fields.split("\n").map(parseField);
}

/** The route of a signature, or "" when it was written without one. */
export function signatureRoute(signature: string): string {
  const tab = signature.indexOf("\t");
  return tab === -1 ? "" : signature.slice(0, tab);
}

/** `route\tpath kind`: the key of main's noise on one field of one route. */
export const noiseKey = (route: string, d: Difference) => `${route}\t${fieldKey(d)}`;

export function parseNoiseKey(key: string): { route: string } & Difference {
  const tab = key.indexOf("\t");
  return { route: tab === -1 ? "" : key.slice(0, tab), ...parseField(key.slice(tab + 1)) };
}

function parseField(key: string): Difference {
  const space = key.lastIndexOf(" ");
  return { path: key.slice(0, space), kind: key.slice(space + 1) as DiffKind };
}

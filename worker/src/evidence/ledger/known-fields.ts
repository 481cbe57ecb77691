import { MAX_ROUTES_PER_NAME, OTHER_ROUTES } from "../verdict.ts";

/** The `fields` row of main-against-main noise (versions are never empty). */
export const NOISE_FIELDS = "";
/** The `fields` rows of the name's routes (no version holds a tab). */
const ROUTES = "\troutes";

/**
 * The distinct fields each version has recorded (the `fields` table), read
 * once per ledger instance and kept in step with the table; dropped
 * whenever rows are deleted, so the next read starts from the table again.
 */
export class KnownFields {
  readonly #sql: SqlStorage;
  readonly #known = new Map<string, Set<string>>();

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  of(version: string): Set<string> {
    let known = this.#known.get(version);
    if (!known) {
      known = new Set(
        this.#sql
          .exec<{ field: string }>("SELECT field FROM fields WHERE version = ?", version)
          .toArray()
          .map((row) => row.field),
      );
      this.#known.set(version, known);
    }
    return known;
  }

  touch(version: string, fields: Iterable<string>, minute: number): void {
    for (const field of fields) {
      this.#sql.exec(
        `INSERT INTO fields VALUES (?, ?, ?)
         ON CONFLICT (version, field) DO UPDATE SET last_minute = MAX(last_minute, excluded.last_minute)`,
        version,
        field,
        minute,
      );
    }
  }

  /**
   * The route a row is kept under: its own while the name has fewer than
   * MAX_ROUTES_PER_NAME, else OTHER_ROUTES (whose noise excuses nothing).
   */
  route(route: string, minute: number): string {
    if (route === OTHER_ROUTES) return route;
    const known = this.of(ROUTES);
    if (!known.has(route)) {
      if (known.size >= MAX_ROUTES_PER_NAME) return OTHER_ROUTES;
      known.add(route);
    }
    this.touch(ROUTES, [route], minute);
    return route;
  }

  forget(version?: string): void {
    if (version === undefined) this.#known.clear();
    else this.#known.delete(version);
  }
}

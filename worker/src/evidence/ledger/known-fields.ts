/** The `fields` row of main-against-main noise (versions are never empty). */
export const NOISE_FIELDS = "";

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

  forget(version?: string): void {
    if (version === undefined) this.#known.clear();
    else this.#known.delete(version);
  }
}

import { sql } from "drizzle-orm";
import { integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const SERVICE_STATUSES = ["running", "unreachable", "unknown"] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

/** One row per deployed version of a service; D1 is the registry's source of truth. */
export const services = sqliteTable(
  "services",
  {
    name: text().notNull(),
    version: text().notNull(),
    origin: text().notNull(),
    main: integer({ mode: "boolean" }).notNull().default(false),
    status: text({ enum: SERVICE_STATUSES }).notNull().default("unknown"),
    statusSince: integer("status_since", { mode: "timestamp_ms" }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    // The composite key is the unique index on (name, version): deploying twice can never replace.
    primaryKey({ columns: [t.name, t.version] }),
    // Belt to the coordinator's braces: at most one main per name, whatever the writer.
    uniqueIndex("services_one_main_per_name").on(t.name).where(sql`${t.main} = 1`),
  ],
);

export type ServiceRow = typeof services.$inferSelect;

CREATE TABLE `policies` (
	`name` text PRIMARY KEY NOT NULL,
	`policy` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `services` ADD `mirror_percent` real DEFAULT 100 NOT NULL;--> statement-breakpoint
ALTER TABLE `services` ADD `mirror_methods` text;
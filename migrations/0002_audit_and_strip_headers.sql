CREATE TABLE `audit` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`name` text NOT NULL,
	`version` text,
	`detail` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_by_name` ON `audit` (`name`,`id`);--> statement-breakpoint
ALTER TABLE `services` ADD `strip_headers` text DEFAULT '[]' NOT NULL;
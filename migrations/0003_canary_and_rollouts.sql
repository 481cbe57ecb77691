CREATE TABLE `rollouts` (
	`name` text PRIMARY KEY NOT NULL,
	`version` text NOT NULL,
	`steps` text NOT NULL,
	`step_minutes` real NOT NULL,
	`promote` integer NOT NULL,
	`state` text NOT NULL,
	`step` integer NOT NULL,
	`step_since` integer NOT NULL,
	`started_at` integer NOT NULL,
	`results` text NOT NULL,
	`reasons` text NOT NULL,
	`ended_at` integer
);
--> statement-breakpoint
ALTER TABLE `services` ADD `canary_percent` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `services` ADD `canary_key` text;
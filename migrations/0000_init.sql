CREATE TABLE `services` (
	`name` text NOT NULL,
	`version` text NOT NULL,
	`origin` text NOT NULL,
	`main` integer DEFAULT false NOT NULL,
	`status` text DEFAULT 'unknown' NOT NULL,
	`status_since` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`name`, `version`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `services_one_main_per_name` ON `services` (`name`) WHERE "services"."main" = 1;
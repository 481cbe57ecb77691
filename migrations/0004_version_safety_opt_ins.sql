ALTER TABLE `services` ADD `canary_writes` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `services` ADD `forward_access` integer DEFAULT false NOT NULL;
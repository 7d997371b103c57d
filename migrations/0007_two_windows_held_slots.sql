ALTER TABLE `message_log` ADD `slot` text;--> statement-breakpoint
ALTER TABLE `message_log` ADD `slot_at` integer;--> statement-breakpoint
ALTER TABLE `message_log` ADD `unsure` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `service_window` ADD `event_opened_at` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `service_window` ADD `event_sent` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `service_window` ADD `event_key` text;
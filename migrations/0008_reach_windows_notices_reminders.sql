CREATE TABLE `activity_reminder` (
	`activity_id` integer NOT NULL,
	`kind` text NOT NULL,
	`upto` integer DEFAULT 0 NOT NULL,
	`done_at` integer,
	PRIMARY KEY(`activity_id`, `kind`),
	FOREIGN KEY (`activity_id`) REFERENCES `activity`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `template_receipt` (
	`appid` text NOT NULL,
	`msgid` text NOT NULL,
	`status` text NOT NULL,
	`detail` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`appid`, `msgid`)
);
--> statement-breakpoint
CREATE INDEX `template_receipt_created` ON `template_receipt` (`created_at`);--> statement-breakpoint
ALTER TABLE `message_log` ADD `activity_id` integer;--> statement-breakpoint
ALTER TABLE `message_log` ADD `scene` text;--> statement-breakpoint
ALTER TABLE `message_log` ADD `channel` text;--> statement-breakpoint
ALTER TABLE `message_log` ADD `slot` text;--> statement-breakpoint
ALTER TABLE `message_log` ADD `slot_at` integer;--> statement-breakpoint
ALTER TABLE `message_log` ADD `unsure` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `message_log` ADD `msgid` text;--> statement-breakpoint
CREATE INDEX `message_log_activity` ON `message_log` (`activity_id`);--> statement-breakpoint
CREATE INDEX `message_log_msgid` ON `message_log` (`appid`,`msgid`) WHERE msgid IS NOT NULL;--> statement-breakpoint
ALTER TABLE `service_window` ADD `event_opened_at` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `service_window` ADD `event_sent` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `service_window` ADD `event_key` text;
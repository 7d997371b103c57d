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
ALTER TABLE `message_log` ADD `msgid` text;--> statement-breakpoint
CREATE INDEX `message_log_activity` ON `message_log` (`activity_id`);--> statement-breakpoint
CREATE INDEX `message_log_msgid` ON `message_log` (`appid`,`msgid`) WHERE msgid IS NOT NULL;
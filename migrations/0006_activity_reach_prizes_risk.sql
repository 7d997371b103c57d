ALTER TABLE `activity` ADD `notices` text;--> statement-breakpoint
ALTER TABLE `activity` ADD `burst_count` integer;--> statement-breakpoint
ALTER TABLE `activity` ADD `burst_seconds` integer;--> statement-breakpoint
ALTER TABLE `activity` ADD `stay_hours` integer;--> statement-breakpoint
ALTER TABLE `award` ADD `kind` text DEFAULT 'onsite' NOT NULL;--> statement-breakpoint
ALTER TABLE `poster_setting` ADD `progress_keyword` text DEFAULT '进度' NOT NULL;--> statement-breakpoint
ALTER TABLE `poster_setting` ADD `claim_keyword` text DEFAULT '领奖' NOT NULL;--> statement-breakpoint
CREATE INDEX `poster_setting_progress_keyword` ON `poster_setting` (`progress_keyword`);--> statement-breakpoint
CREATE INDEX `poster_setting_claim_keyword` ON `poster_setting` (`claim_keyword`);
CREATE TABLE `assist_hold` (
	`activity_id` integer NOT NULL,
	`public_number_id` integer NOT NULL,
	`open_id` text NOT NULL,
	`owner_row_id` integer NOT NULL,
	`reason` text NOT NULL,
	`at` integer NOT NULL,
	`due_at` integer,
	`outcome` text,
	`resolved_at` integer,
	`left_at` integer,
	PRIMARY KEY(`activity_id`, `public_number_id`, `open_id`),
	FOREIGN KEY (`activity_id`) REFERENCES `activity`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `assist_hold_owner` ON `assist_hold` (`activity_id`,`owner_row_id`,`outcome`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`mtb_user_id` integer NOT NULL,
	`actor` text NOT NULL,
	`activity_id` integer,
	`action` text NOT NULL,
	`target` text DEFAULT '' NOT NULL,
	`detail` text,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_user` ON `audit_log` (`mtb_user_id`,`id`);--> statement-breakpoint
CREATE INDEX `audit_user_activity` ON `audit_log` (`mtb_user_id`,`activity_id`,`id`);--> statement-breakpoint
CREATE INDEX `audit_user_action` ON `audit_log` (`mtb_user_id`,`action`,`id`);--> statement-breakpoint
CREATE TABLE `review` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`activity_id` integer NOT NULL,
	`mtb_user_id` integer NOT NULL,
	`part_in_id` integer NOT NULL,
	`status` text NOT NULL,
	`flagged_at` integer NOT NULL,
	`decided_at` integer,
	`decided_by` text,
	FOREIGN KEY (`activity_id`) REFERENCES `activity`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `review_activity_poster` ON `review` (`activity_id`,`part_in_id`);--> statement-breakpoint
CREATE INDEX `review_activity_status` ON `review` (`activity_id`,`status`);--> statement-breakpoint
CREATE TABLE `prize_code` (
	`activity_id` integer NOT NULL,
	`level` integer NOT NULL,
	`code` text NOT NULL,
	`imported_at` integer NOT NULL,
	PRIMARY KEY(`activity_id`, `code`),
	FOREIGN KEY (`activity_id`) REFERENCES `activity`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `prize_code_level` ON `prize_code` (`activity_id`,`level`);--> statement-breakpoint
CREATE TABLE `winner` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`activity_id` integer NOT NULL,
	`mtb_user_id` integer NOT NULL,
	`part_in_id` integer NOT NULL,
	`public_number_id` integer NOT NULL,
	`open_id` text NOT NULL,
	`level` integer NOT NULL,
	`kind` text NOT NULL,
	`good` text NOT NULL,
	`status` text NOT NULL,
	`code` text,
	`won_at` integer NOT NULL,
	`claimed_at` integer,
	`fulfilled_at` integer,
	`contact_name` text,
	`contact_phone` text,
	`contact_region` text,
	`contact_address` text,
	`contact_erased_at` integer,
	`ship_company` text,
	`tracking_no` text,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`activity_id`) REFERENCES `activity`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `winner_activity_owner_level` ON `winner` (`activity_id`,`part_in_id`,`level`);--> statement-breakpoint
CREATE INDEX `winner_activity_status` ON `winner` (`activity_id`,`status`);--> statement-breakpoint
CREATE INDEX `winner_activity_level` ON `winner` (`activity_id`,`level`);--> statement-breakpoint
CREATE INDEX `winner_user_code` ON `winner` (`mtb_user_id`,`code`);--> statement-breakpoint
ALTER TABLE `activity` ADD `claim_deadline` integer;--> statement-breakpoint
ALTER TABLE `activity` ADD `end_when_gone` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `tpi_activity_inviter` ON `take_part_in` (`activity_id`,`origin_open_id`);
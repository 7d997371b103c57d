CREATE TABLE `authorize_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `user_info`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `login_attempts` (
	`key` text PRIMARY KEY NOT NULL,
	`window_start` integer NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `platform_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `public_numbers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` integer NOT NULL,
	`authorizer_appid` text NOT NULL,
	`nick_name` text DEFAULT '' NOT NULL,
	`user_name` text DEFAULT '' NOT NULL,
	`head_img` text DEFAULT '' NOT NULL,
	`service_type` integer DEFAULT 0 NOT NULL,
	`verify_type` integer DEFAULT -1 NOT NULL,
	`principal_name` text DEFAULT '' NOT NULL,
	`alias` text DEFAULT '' NOT NULL,
	`qrcode_url` text DEFAULT '' NOT NULL,
	`func_info` text DEFAULT '[]' NOT NULL,
	`refresh_token` text NOT NULL,
	`authorized` integer DEFAULT 1 NOT NULL,
	`authorized_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`revoked_at` integer,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `user_info`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `public_numbers_appid` ON `public_numbers` (`authorizer_appid`);--> statement-breakpoint
CREATE INDEX `public_numbers_user` ON `public_numbers` (`user_id`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `user_info`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sessions_user` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE INDEX `sessions_expires` ON `sessions` (`expires_at`);--> statement-breakpoint
CREATE TABLE `user_info` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`username` text NOT NULL,
	`password_hash` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `user_info_username` ON `user_info` (`username`);--> statement-breakpoint
CREATE TABLE `message_dedup` (
	`key` text PRIMARY KEY NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `message_dedup_created` ON `message_dedup` (`created_at`);--> statement-breakpoint
CREATE TABLE `message_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`idempotency_key` text NOT NULL,
	`appid` text NOT NULL,
	`open_id` text NOT NULL,
	`msg_type` text NOT NULL,
	`summary` text DEFAULT '' NOT NULL,
	`status` text NOT NULL,
	`errcode` integer,
	`errmsg` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `message_log_key` ON `message_log` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `message_log_fan` ON `message_log` (`appid`,`open_id`);--> statement-breakpoint
CREATE TABLE `account_fan` (
	`public_number_id` integer NOT NULL,
	`open_id` text NOT NULL,
	`first_event` text NOT NULL,
	`first_seen_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`following` integer DEFAULT 1 NOT NULL,
	`promo_id` integer,
	FOREIGN KEY (`public_number_id`) REFERENCES `public_numbers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `account_fan_pk` ON `account_fan` (`public_number_id`,`open_id`);--> statement-breakpoint
CREATE TABLE `activity` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`mtb_user_id` integer NOT NULL,
	`name` text NOT NULL,
	`start_time` integer NOT NULL,
	`end_time` integer NOT NULL,
	`protect_switch` integer DEFAULT 1 NOT NULL,
	`unsubscribe_deduct` integer DEFAULT 1 NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`mtb_user_id`) REFERENCES `user_info`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `activity_user_time` ON `activity` (`mtb_user_id`,`deleted_at`,`start_time`);--> statement-breakpoint
CREATE TABLE `award` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`activity_id` integer NOT NULL,
	`level` integer NOT NULL,
	`number` integer NOT NULL,
	`good` text NOT NULL,
	`stock` integer,
	FOREIGN KEY (`activity_id`) REFERENCES `activity`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `award_activity_level` ON `award` (`activity_id`,`level`);--> statement-breakpoint
CREATE TABLE `poster_setting` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`activity_id` integer NOT NULL,
	`background_img` text NOT NULL,
	`key_word` text NOT NULL,
	`rule` text NOT NULL,
	`layout` text,
	FOREIGN KEY (`activity_id`) REFERENCES `activity`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `poster_setting_activity` ON `poster_setting` (`activity_id`);--> statement-breakpoint
CREATE INDEX `poster_setting_keyword` ON `poster_setting` (`key_word`);--> statement-breakpoint
CREATE TABLE `public_join_activity` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`activity_id` integer NOT NULL,
	`public_id` integer NOT NULL,
	FOREIGN KEY (`activity_id`) REFERENCES `activity`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`public_id`) REFERENCES `public_numbers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pja_activity_public` ON `public_join_activity` (`activity_id`,`public_id`);--> statement-breakpoint
CREATE INDEX `pja_public` ON `public_join_activity` (`public_id`);--> statement-breakpoint
CREATE TABLE `take_part_in` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`activity_id` integer NOT NULL,
	`public_number_id` integer NOT NULL,
	`mtb_user_id` integer NOT NULL,
	`open_id` text NOT NULL,
	`nick_name` text,
	`avatar` text,
	`origin` integer DEFAULT 2 NOT NULL,
	`looking` integer DEFAULT 0 NOT NULL,
	`part_in` integer DEFAULT 0 NOT NULL,
	`poster` text,
	`black` integer DEFAULT 0 NOT NULL,
	`level` integer DEFAULT 1 NOT NULL,
	`origin_open_id` text,
	`number` integer DEFAULT 0 NOT NULL,
	`task_progress` integer DEFAULT 0 NOT NULL,
	`assist_counted` integer DEFAULT 0 NOT NULL,
	`ctime` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`subscribe_time` integer,
	`unsubscribe_time` integer,
	`qr_url` text,
	`qr_expires_at` integer,
	`poster_background` text,
	FOREIGN KEY (`activity_id`) REFERENCES `activity`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`public_number_id`) REFERENCES `public_numbers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tpi_activity_public_open` ON `take_part_in` (`activity_id`,`public_number_id`,`open_id`);--> statement-breakpoint
CREATE INDEX `tpi_public_open` ON `take_part_in` (`public_number_id`,`open_id`);--> statement-breakpoint
CREATE INDEX `tpi_user` ON `take_part_in` (`mtb_user_id`);--> statement-breakpoint
CREATE INDEX `tpi_user_black` ON `take_part_in` (`mtb_user_id`,`black`);--> statement-breakpoint
CREATE INDEX `tpi_user_progress` ON `take_part_in` (`mtb_user_id`,`task_progress`);--> statement-breakpoint
CREATE INDEX `tpi_activity` ON `take_part_in` (`activity_id`);--> statement-breakpoint
CREATE INDEX `tpi_public` ON `take_part_in` (`public_number_id`);--> statement-breakpoint
CREATE INDEX `tpi_origin_open` ON `take_part_in` (`origin_open_id`);--> statement-breakpoint
CREATE INDEX `tpi_activity_part_number` ON `take_part_in` (`activity_id`,`part_in`,`number`);--> statement-breakpoint
CREATE INDEX `tpi_activity_part_ctime` ON `take_part_in` (`activity_id`,`part_in`,`ctime`);--> statement-breakpoint
CREATE INDEX `tpi_activity_subscribe` ON `take_part_in` (`activity_id`,`subscribe_time`,`origin`,`part_in`,`looking`);--> statement-breakpoint
CREATE INDEX `tpi_activity_unsubscribe` ON `take_part_in` (`activity_id`,`unsubscribe_time`);--> statement-breakpoint
CREATE INDEX `tpi_activity_progress` ON `take_part_in` (`activity_id`,`task_progress`);--> statement-breakpoint
CREATE INDEX `tpi_activity_level` ON `take_part_in` (`activity_id`,`level`);--> statement-breakpoint
CREATE TABLE `promo` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`qr` text,
	`qr_url` text,
	`public_id` integer NOT NULL,
	`mtb_user_id` integer NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`public_id`) REFERENCES `public_numbers`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`mtb_user_id`) REFERENCES `user_info`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `promo_user` ON `promo` (`mtb_user_id`,`deleted_at`,`public_id`);--> statement-breakpoint
CREATE TABLE `promo_follow` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`promo_id` integer NOT NULL,
	`public_number_id` integer NOT NULL,
	`open_id` text NOT NULL,
	`subscribe_time` integer NOT NULL,
	`looking` integer DEFAULT 0 NOT NULL,
	`unsubscribe_time` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `promo_follow_fan` ON `promo_follow` (`promo_id`,`open_id`);--> statement-breakpoint
CREATE INDEX `promo_follow_day` ON `promo_follow` (`promo_id`,`subscribe_time`);--> statement-breakpoint
CREATE TABLE `uploads` (
	`key` text PRIMARY KEY NOT NULL,
	`mtb_user_id` integer NOT NULL,
	`content_type` text NOT NULL,
	`size` integer NOT NULL,
	`width` integer NOT NULL,
	`height` integer NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`mtb_user_id`) REFERENCES `user_info`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `uploads_user` ON `uploads` (`mtb_user_id`);
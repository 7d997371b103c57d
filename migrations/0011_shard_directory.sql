CREATE TABLE `account_shard` (
	`appid` text PRIMARY KEY NOT NULL,
	`shard` text NOT NULL,
	`user_id` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `account_shard_user` ON `account_shard` (`user_id`);--> statement-breakpoint
CREATE TABLE `operator_shard` (
	`user_id` integer PRIMARY KEY NOT NULL,
	`shard` text NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `user_info`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
-- Everything that existed before shards lives in the home database.
INSERT INTO `operator_shard` (`user_id`, `shard`) SELECT `id`, 'DB' FROM `user_info`;--> statement-breakpoint
INSERT INTO `account_shard` (`appid`, `shard`, `user_id`) SELECT `authorizer_appid`, 'DB', `user_id` FROM `public_numbers`;

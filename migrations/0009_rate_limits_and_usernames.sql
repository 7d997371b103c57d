CREATE TABLE `rate_limits` (
	`key` text PRIMARY KEY NOT NULL,
	`window_end` integer NOT NULL,
	`hits` integer NOT NULL
);
--> statement-breakpoint
DROP TABLE `login_attempts`;--> statement-breakpoint
-- Usernames are lowercased at the API's boundary from now on (one account per name, whatever its
-- case). Existing ones follow, unless another account already holds the lowercase spelling.
UPDATE `user_info` SET `username` = lower(`username`)
WHERE `username` <> lower(`username`)
  AND NOT EXISTS (SELECT 1 FROM `user_info` AS `other` WHERE `other`.`id` <> `user_info`.`id` AND lower(`other`.`username`) = lower(`user_info`.`username`));

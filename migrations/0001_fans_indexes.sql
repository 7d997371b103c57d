CREATE TABLE `fan_name_gram` (
	`mtb_user_id` integer NOT NULL,
	`gram` text NOT NULL,
	`tpi_id` integer NOT NULL,
	PRIMARY KEY(`mtb_user_id`, `gram`, `tpi_id`)
);
--> statement-breakpoint
DROP INDEX `tpi_activity`;--> statement-breakpoint
DROP INDEX `tpi_public`;--> statement-breakpoint
DROP INDEX `tpi_origin_open`;--> statement-breakpoint
CREATE INDEX `tpi_user_looking` ON `take_part_in` (`mtb_user_id`,`looking`);--> statement-breakpoint
CREATE INDEX `tpi_user_origin` ON `take_part_in` (`mtb_user_id`,`origin`);--> statement-breakpoint
CREATE INDEX `tpi_activity_user` ON `take_part_in` (`activity_id`,`mtb_user_id`);--> statement-breakpoint
CREATE INDEX `tpi_public_user` ON `take_part_in` (`public_number_id`,`mtb_user_id`);--> statement-breakpoint
CREATE INDEX `tpi_promo` ON `take_part_in` (`origin_open_id`,`mtb_user_id`) WHERE origin = 1;
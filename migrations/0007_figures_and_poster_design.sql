ALTER TABLE `take_part_in` ADD `poster_design` text;--> statement-breakpoint
CREATE INDEX `tpi_activity_origin` ON `take_part_in` (`activity_id`,`origin`);
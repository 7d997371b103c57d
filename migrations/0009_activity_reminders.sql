CREATE TABLE `activity_reminder` (
	`activity_id` integer NOT NULL,
	`kind` text NOT NULL,
	`upto` integer DEFAULT 0 NOT NULL,
	`done_at` integer,
	PRIMARY KEY(`activity_id`, `kind`),
	FOREIGN KEY (`activity_id`) REFERENCES `activity`(`id`) ON UPDATE no action ON DELETE cascade
);

CREATE TABLE `service_window` (
	`appid` text NOT NULL,
	`open_id` text NOT NULL,
	`opened_at` integer NOT NULL,
	`sent` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`appid`, `open_id`)
);

-- take_part_in.activity_id becomes nullable: a fan who came through a promo code and has joined
-- no activity is listed among the fans (PRODUCT §2.7) on a row of their own ("promo fan's row").
-- Rebuilding the table drops its triggers, so 0002's nickname-gram triggers are created again
-- below (a future rebuild of take_part_in must do the same).
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_take_part_in` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`activity_id` integer,
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
INSERT INTO `__new_take_part_in`("id", "activity_id", "public_number_id", "mtb_user_id", "open_id", "nick_name", "avatar", "origin", "looking", "part_in", "poster", "black", "level", "origin_open_id", "number", "task_progress", "assist_counted", "ctime", "subscribe_time", "unsubscribe_time", "qr_url", "qr_expires_at", "poster_background") SELECT "id", "activity_id", "public_number_id", "mtb_user_id", "open_id", "nick_name", "avatar", "origin", "looking", "part_in", "poster", "black", "level", "origin_open_id", "number", "task_progress", "assist_counted", "ctime", "subscribe_time", "unsubscribe_time", "qr_url", "qr_expires_at", "poster_background" FROM `take_part_in`;--> statement-breakpoint
DROP TABLE `take_part_in`;--> statement-breakpoint
ALTER TABLE `__new_take_part_in` RENAME TO `take_part_in`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `tpi_activity_public_open` ON `take_part_in` (`activity_id`,`public_number_id`,`open_id`);--> statement-breakpoint
CREATE INDEX `tpi_public_open` ON `take_part_in` (`public_number_id`,`open_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `tpi_promo_fan` ON `take_part_in` (`public_number_id`,`open_id`) WHERE activity_id IS NULL;--> statement-breakpoint
CREATE INDEX `tpi_user` ON `take_part_in` (`mtb_user_id`);--> statement-breakpoint
CREATE INDEX `tpi_user_black` ON `take_part_in` (`mtb_user_id`,`black`);--> statement-breakpoint
CREATE INDEX `tpi_user_progress` ON `take_part_in` (`mtb_user_id`,`task_progress`);--> statement-breakpoint
CREATE INDEX `tpi_user_looking` ON `take_part_in` (`mtb_user_id`,`looking`);--> statement-breakpoint
CREATE INDEX `tpi_user_origin` ON `take_part_in` (`mtb_user_id`,`origin`);--> statement-breakpoint
CREATE INDEX `tpi_activity_user` ON `take_part_in` (`activity_id`,`mtb_user_id`);--> statement-breakpoint
CREATE INDEX `tpi_public_user` ON `take_part_in` (`public_number_id`,`mtb_user_id`);--> statement-breakpoint
CREATE INDEX `tpi_promo` ON `take_part_in` (`origin_open_id`,`mtb_user_id`) WHERE origin = 1;--> statement-breakpoint
CREATE INDEX `tpi_activity_part_number` ON `take_part_in` (`activity_id`,`part_in`,`number`);--> statement-breakpoint
CREATE INDEX `tpi_activity_part_ctime` ON `take_part_in` (`activity_id`,`part_in`,`ctime`);--> statement-breakpoint
CREATE INDEX `tpi_activity_subscribe` ON `take_part_in` (`activity_id`,`subscribe_time`,`origin`,`part_in`,`looking`);--> statement-breakpoint
CREATE INDEX `tpi_activity_unsubscribe` ON `take_part_in` (`activity_id`,`unsubscribe_time`);--> statement-breakpoint
CREATE INDEX `tpi_activity_progress` ON `take_part_in` (`activity_id`,`task_progress`);--> statement-breakpoint
CREATE INDEX `tpi_activity_level` ON `take_part_in` (`activity_id`,`level`);--> statement-breakpoint
CREATE TRIGGER `tpi_name_grams_insert` AFTER INSERT ON `take_part_in` WHEN new.nick_name IS NOT NULL BEGIN
  INSERT OR IGNORE INTO fan_name_gram (mtb_user_id, gram, tpi_id)
    SELECT new.mtb_user_id, lower(substr(new.nick_name, pos, len)), new.id FROM fan_name_gram_slot WHERE pos + len - 1 <= length(new.nick_name);
END;
--> statement-breakpoint
CREATE TRIGGER `tpi_name_grams_update` AFTER UPDATE OF nick_name ON `take_part_in` WHEN old.nick_name IS NOT new.nick_name BEGIN
  DELETE FROM fan_name_gram WHERE mtb_user_id = old.mtb_user_id AND tpi_id = old.id AND gram IN (
    SELECT lower(substr(old.nick_name, pos, len)) FROM fan_name_gram_slot WHERE pos + len - 1 <= length(old.nick_name));
  INSERT OR IGNORE INTO fan_name_gram (mtb_user_id, gram, tpi_id)
    SELECT new.mtb_user_id, lower(substr(new.nick_name, pos, len)), new.id FROM fan_name_gram_slot WHERE pos + len - 1 <= length(new.nick_name);
END;
--> statement-breakpoint
CREATE TRIGGER `tpi_name_grams_delete` AFTER DELETE ON `take_part_in` WHEN old.nick_name IS NOT NULL BEGIN
  DELETE FROM fan_name_gram WHERE mtb_user_id = old.mtb_user_id AND tpi_id = old.id AND gram IN (
    SELECT lower(substr(old.nick_name, pos, len)) FROM fan_name_gram_slot WHERE pos + len - 1 <= length(old.nick_name));
END;
--> statement-breakpoint
-- A promo fan's row stands for "known only through a promo": once the fan has a row in an activity
-- (joined, or helped someone), that row carries the promo attribution and the promo fan's row goes,
-- whichever path wrote the activity row.
CREATE TRIGGER `tpi_promo_fan_joined` AFTER INSERT ON `take_part_in` WHEN new.activity_id IS NOT NULL BEGIN
  DELETE FROM take_part_in WHERE activity_id IS NULL AND public_number_id = new.public_number_id AND open_id = new.open_id;
END;
--> statement-breakpoint
-- Promo fans seen before this migration.
INSERT INTO take_part_in (activity_id, public_number_id, mtb_user_id, open_id, origin, origin_open_id, part_in, looking, ctime, subscribe_time)
  SELECT NULL, f.public_number_id, p.mtb_user_id, f.open_id, 1, CAST(p.id AS TEXT), 1, 1 - f.following, f.first_seen_at, f.first_seen_at
  FROM account_fan f JOIN promo p ON p.id = f.promo_id
  WHERE NOT EXISTS (SELECT 1 FROM take_part_in t WHERE t.public_number_id = f.public_number_id AND t.open_id = f.open_id);

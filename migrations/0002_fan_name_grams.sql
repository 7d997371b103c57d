-- Keeps fan_name_gram (worker/db/schema/activity.ts) equal to the 1- and 2-character substrings
-- of take_part_in.nick_name, ASCII lower-cased like LIKE compares; the first 64 characters count
-- (WeChat nicknames are at most 32).
CREATE VIEW `fan_name_gram_slot` AS
  SELECT p.value AS pos, n.value AS len FROM json_each('[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64]') p, json_each('[1,2]') n;
--> statement-breakpoint
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
INSERT OR IGNORE INTO fan_name_gram (mtb_user_id, gram, tpi_id)
  SELECT t.mtb_user_id, lower(substr(t.nick_name, pos, len)), t.id FROM take_part_in t, fan_name_gram_slot
  WHERE t.nick_name IS NOT NULL AND pos + len - 1 <= length(t.nick_name);

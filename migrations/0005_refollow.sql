-- A fan who follows the account again (any way: a poster, a promo code, a plain follow, a keyword)
-- shows as following on each of their rows. Every follow upserts account_fan, and only a change
-- from 0 to 1 touches take_part_in, so a new fan's follow (the hot path of a campaign) costs nothing.
CREATE TRIGGER `account_fan_refollow` AFTER UPDATE OF following ON `account_fan` WHEN old.following = 0 AND new.following = 1 BEGIN
  UPDATE take_part_in SET looking = 0 WHERE public_number_id = new.public_number_id AND open_id = new.open_id AND looking = 1;
END;

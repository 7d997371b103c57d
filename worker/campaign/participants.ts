/**
 * Every write to take_part_in (参与活动) goes through this module, so the seed's coded columns
 * (db/values.ts) are set in one place. Two triggers also write it (migrations 0004 and 0005): a
 * promo fan's row goes when the fan gets an activity row, and a fan who follows again is shown as
 * following on all of their rows.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { Flag, Looking, Origin, PartIn } from '../db/values';

const t = schema.takePartIn;

/** A fan's keyword: their participant row, created or (sending the keyword again) reused. */
export async function joinActivity(
  db: Db,
  p: { activityId: number; accountId: number; mtbUserId: number; openId: string; promoId: number | null; at: number },
): Promise<{ id: number }> {
  // A fan who came through a promo code keeps that attribution in every activity they join.
  const origin = p.promoId ? { origin: Origin.promo, originOpenId: String(p.promoId) } : { origin: Origin.other, originOpenId: null };
  const [row] = await db
    .insert(t)
    .values({
      activityId: p.activityId,
      accountId: p.accountId,
      mtbUserId: p.mtbUserId,
      openId: p.openId,
      partIn: PartIn.participant,
      ctime: p.at,
      subscribeTime: p.at,
      ...origin,
    })
    .onConflictDoUpdate({
      target: [t.activityId, t.accountId, t.openId],
      set: { partIn: PartIn.participant, looking: Looking.following, subscribeTime: sql`coalesce(${t.subscribeTime}, ${p.at})` },
    })
    .returning({ id: t.id });
  return row;
}

/** The fan's poster was (re)rendered: who they are per WeChat, and what the poster was drawn with. */
export async function recordPoster(
  db: Db,
  rowId: number,
  p: { nickName: string; avatar: string; poster: string; background: string; design: string; qrUrl: string; qrExpiresAt: number },
): Promise<void> {
  await db
    .update(t)
    .set({
      nickName: p.nickName,
      avatar: p.avatar,
      poster: p.poster,
      posterBackground: p.background,
      posterDesign: p.design,
      qrUrl: p.qrUrl,
      qrExpiresAt: p.qrExpiresAt,
    })
    .where(eq(t.id, rowId));
}

/** The fan unfollowed the account: every row of theirs there stops "following" (for a D1 batch). */
export function markUnfollowed(db: Db, accountId: number, openId: string, at: number) {
  return db
    .update(t)
    .set({ looking: Looking.unfollowed, unsubscribeTime: at })
    .where(and(eq(t.accountId, accountId), eq(t.openId, openId)));
}

// A fan a promo brought who is in no activity of the account is listed on a promo fan's row (no
// activity); a trigger drops that row when the fan gets an activity row (migration 0004).
const PROMO_FAN = `INSERT INTO take_part_in (activity_id, public_number_id, mtb_user_id, open_id, origin, origin_open_id, part_in, ctime, subscribe_time)
  SELECT NULL, f.public_number_id, p.mtb_user_id, f.open_id, ${Origin.promo}, CAST(p.id AS TEXT), ${PartIn.helper}, ?3, ?3 FROM account_fan f JOIN promo p ON p.id = f.promo_id
  WHERE f.public_number_id = ?1 AND f.open_id = ?2 AND NOT EXISTS (SELECT 1 FROM take_part_in t WHERE t.public_number_id = ?1 AND t.open_id = ?2)
  ON CONFLICT DO NOTHING`;

/** Lists a fan a promo brought among the fans, if they are in no activity of the account yet. */
export function promoFanStatement(d1: D1Database, accountId: number, openId: string, at: number): D1PreparedStatement {
  return d1.prepare(PROMO_FAN).bind(accountId, openId, at);
}

// The activity counter's writes, each one statement over a JSON array of rows (json_each),
// whatever the number of rows: a round of 100 assists is a few statements, not hundreds, and binds
// one parameter (D1 allows 100 per statement). Every value is absolute, so replaying is harmless.

/**
 * Counted helpers: [activityId, accountId, openId, ownerOpenId, level, at]. An assist held for
 * review or waiting for its stay period (防刷) gets its row when it counts, dated when the helper
 * followed.
 */
export const COUNTED_HELPERS = `INSERT INTO take_part_in (activity_id, public_number_id, mtb_user_id, open_id, origin, part_in, origin_open_id, level, subscribe_time, ctime, assist_counted, looking)
  SELECT h.value ->> 0, h.value ->> 1, (SELECT mtb_user_id FROM activity WHERE id = h.value ->> 0), h.value ->> 2, ${Origin.poster}, ${PartIn.helper}, h.value ->> 3, h.value ->> 4, h.value ->> 5, h.value ->> 5, ${Flag.yes}, ${Looking.following}
  FROM json_each(?1) AS h WHERE true
  ON CONFLICT (activity_id, public_number_id, open_id) DO UPDATE SET origin = ${Origin.poster}, origin_open_id = excluded.origin_open_id,
    level = excluded.level, subscribe_time = excluded.subscribe_time, assist_counted = ${Flag.yes}, looking = ${Looking.following}`;

/**
 * Helpers who left: [activityId, accountId, openId, at, uncount]. A departure applied after the fan
 * followed again (account_fan says so) leaves them following.
 */
export const DEPARTED_HELPERS = `UPDATE take_part_in SET unsubscribe_time = l.value ->> 3,
    looking = CASE WHEN EXISTS (SELECT 1 FROM account_fan f WHERE f.public_number_id = take_part_in.public_number_id
      AND f.open_id = take_part_in.open_id AND f.following = ${Flag.yes}) THEN looking ELSE ${Looking.unfollowed} END,
    assist_counted = CASE WHEN l.value ->> 4 = ${Flag.yes} THEN ${Flag.no} ELSE assist_counted END
  FROM json_each(?1) AS l
  WHERE take_part_in.activity_id = l.value ->> 0 AND take_part_in.public_number_id = l.value ->> 1 AND take_part_in.open_id = l.value ->> 2`;

/** Poster owners' counts: [activityId, rowId, number, taskProgress]. */
export const OWNER_COUNTS = `UPDATE take_part_in SET number = o.value ->> 2, task_progress = o.value ->> 3 FROM json_each(?1) AS o
  WHERE take_part_in.id = o.value ->> 1 AND take_part_in.activity_id = o.value ->> 0`;

/** Blacklist flags by fan (a voided poster's helpers): [activityId, accountId, openId, black]. */
export const BLACK_FANS = `UPDATE take_part_in SET black = b.value ->> 3 FROM json_each(?1) AS b
  WHERE take_part_in.activity_id = b.value ->> 0 AND take_part_in.public_number_id = b.value ->> 1 AND take_part_in.open_id = b.value ->> 2`;

/** Blacklist flags: [activityId, rowId, black]. */
export const BLACK_FLAGS = `UPDATE take_part_in SET black = b.value ->> 2 FROM json_each(?1) AS b
  WHERE take_part_in.id = b.value ->> 1 AND take_part_in.activity_id = b.value ->> 0`;

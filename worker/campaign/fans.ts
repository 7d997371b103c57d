import { and, asc, count, desc, eq, gt, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { alias, type SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { Flag, Looking, Origin, type OriginName } from '../db/values';
import { AppError } from '../errors';
import { unwrap } from '../rpc-result';
import type { Counters } from './counter/stub';
import { type Cursor, encodeCursor } from './cursor';
import { likePattern } from './search';

export interface FanFilters {
  activity?: number;
  account?: string;
  promo?: number;
  origin?: OriginName;
  following?: boolean;
  black?: boolean;
  progress?: number;
  q?: string;
}

/** The fans list counts matches up to this many and then says "10,000+"; page numbers reach no further. */
export const TOTAL_CAP = 10_000;
const t = schema.takePartIn;
const g = schema.fanNameGram;
const inviter = alias(schema.takePartIn, 'inviter');

/** Case folding as SQLite's lower() and LIKE do it: ASCII only. */
const foldAscii = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Conditions on take_part_in's own columns: every fan row the operator may see, narrowed by PRODUCT §2.7's filters. */
function fanWhere(userId: number, f: FanFilters): SQL {
  const pn = schema.publicNumbers;
  return and(
    eq(t.mtbUserId, userId),
    f.activity !== undefined ? eq(t.activityId, f.activity) : undefined,
    // A scalar subquery is one value, so (public_number_id, mtb_user_id) still serves the order by id.
    f.account !== undefined ? eq(t.accountId, sql`(SELECT ${pn.id} FROM ${pn} WHERE ${pn.authorizerAppid} = ${f.account})`) : undefined,
    // The literal "origin = 1" lets SQLite use the partial index tpi_promo.
    f.promo !== undefined ? and(sql`${t.origin} = ${sql.raw(String(Origin.promo))}`, eq(t.originOpenId, String(f.promo))) : undefined,
    f.origin !== undefined ? eq(t.origin, Origin[f.origin]) : undefined,
    f.following !== undefined ? eq(t.looking, f.following ? Looking.following : Looking.unfollowed) : undefined,
    f.black !== undefined ? eq(t.black, f.black ? Flag.yes : Flag.no) : undefined,
    f.progress !== undefined ? eq(t.taskProgress, f.progress) : undefined,
    // Up to 2 characters the gram is the whole query; beyond, it only narrows and LIKE decides.
    f.q && [...f.q].length > 2 ? sql`${t.nickName} LIKE ${likePattern(f.q)} ESCAPE '\\'` : undefined,
  )!;
}

/**
 * The ids of the matching rows and the column they are ordered by. A nickname search walks the
 * grams of its first 2 characters, newest first; CROSS JOIN keeps SQLite from walking the
 * operator's rows instead, which costs a full scan when the name is rare.
 */
function matching(db: Db, userId: number, f: FanFilters) {
  const where = fanWhere(userId, f);
  if (!f.q) return { key: t.id, ids: (extra?: SQL) => db.select({ id: t.id }).from(t).where(and(where, extra)) };
  const chars = [...foldAscii(f.q)];
  const grams = and(eq(g.mtbUserId, userId), eq(g.gram, chars.slice(0, 2).join('')));
  // The grams alone answer a search of 1–2 characters with no other filter: no row is read.
  const { q: _, ...others } = f;
  const alone = chars.length <= 2 && Object.values(others).every((v) => v === undefined);
  return {
    key: g.tpiId,
    ids: (extra?: SQL) =>
      alone
        ? db.select({ id: g.tpiId }).from(g).where(and(grams, extra)).$dynamic()
        : db
            .select({ id: g.tpiId })
            .from(g)
            .crossJoin(t)
            .where(and(grams, eq(t.id, g.tpiId), where, extra))
            .$dynamic(),
  };
}

/** A joined column under its own name: D1 batch results are keyed by name, and these repeat take_part_in's ("nick_name") or each other's ("name"). */
const named = <T>(column: SQLiteColumn, as: string) => sql<T>`${column}`.as(as);

function fanQuery(db: Db, where: SQL) {
  return (
    db
      .select({
        row: t,
        activityName: named<string | null>(schema.activity.name, 'activity_name'),
        activityDeleted: named<number | null>(schema.activity.deletedAt, 'activity_deleted_at'),
        appid: named<string>(schema.publicNumbers.authorizerAppid, 'account_appid'),
        accountName: named<string>(schema.publicNumbers.nickName, 'account_name'),
        inviterName: named<string | null>(inviter.nickName, 'inviter_name'),
        promoName: named<string | null>(schema.promo.name, 'promo_name'),
        promoDeleted: named<number | null>(schema.promo.deletedAt, 'promo_deleted_at'),
      })
      .from(t)
      // A promo fan's row has no activity.
      .leftJoin(schema.activity, eq(schema.activity.id, t.activityId))
      .innerJoin(schema.publicNumbers, eq(schema.publicNumbers.id, t.accountId))
      .leftJoin(
        inviter,
        and(eq(t.origin, Origin.poster), eq(inviter.activityId, t.activityId), eq(inviter.accountId, t.accountId), eq(inviter.openId, t.originOpenId)),
      )
      .leftJoin(schema.promo, and(eq(t.origin, Origin.promo), eq(schema.promo.id, sql<number>`CAST(${t.originOpenId} AS INTEGER)`)))
      .where(where)
  );
}

/** A fan's row with the names the admin shows beside it (activity, account, inviter, promo). */
export type FanRow = Awaited<ReturnType<ReturnType<typeof fanQuery>['all']>>[number];

/** Where a page starts: a cursor from an earlier page, or else a page number (offset, kept shallow). */
export type PageAt = { cursor: Cursor } | { page: number };

/**
 * One page of fans, newest first, with cursors to the pages either side. The total is counted
 * (up to TOTAL_CAP) only when no cursor is given; a cursor carries it on.
 */
export async function listFans(db: Db, userId: number, f: FanFilters, at: PageAt, pageSize: number) {
  const { key, ids } = matching(db, userId, f);
  const c = 'cursor' in at ? at.cursor : null;
  const back = c?.dir === 'before';
  // One row past the page tells whether there is more in the direction of travel.
  const pageIds = (c ? ids(back ? gt(key, c.id) : lt(key, c.id)) : ids())
    .orderBy(back ? asc(key) : desc(key))
    .limit(pageSize + 1)
    .offset('page' in at ? (at.page - 1) * pageSize : 0);
  // Deferred join: the keyset or offset walks a narrow index; only the page's rows get the joins.
  const rowsQuery = fanQuery(db, inArray(t.id, pageIds)!).orderBy(desc(t.id));
  // The first page's count rides in the same D1 round trip.
  const [rows, [counted]] = c
    ? [await rowsQuery, [null]]
    : await db.batch([
        rowsQuery,
        db.select({ n: count() }).from(
          ids()
            .limit(TOTAL_CAP + 1)
            .as('counted'),
        ),
      ]);
  const more = rows.length > pageSize;
  const items = back ? rows.slice(-pageSize) : rows.slice(0, pageSize);
  // Travelling back and finding nothing newer means the top: page 1, whatever the cursor said.
  const page = 'page' in at ? at.page : back && !more ? 1 : at.cursor.page;
  const total = counted ? Math.min(counted.n, TOTAL_CAP) : c!.total;
  const capped = counted ? counted.n > TOTAL_CAP : c!.capped;
  const older = back || more;
  const newer = back ? more : page > 1;
  const [first, last] = [items[0], items.at(-1)];
  return {
    items,
    total,
    total_capped: capped,
    page,
    page_size: pageSize,
    next_cursor: older && last ? encodeCursor({ dir: 'after', id: last.row.id, page: page + 1, total, capped }) : null,
    prev_cursor: newer && first ? encodeCursor({ dir: 'before', id: first.row.id, page: Math.max(1, page - 1), total, capped }) : null,
  };
}

/**
 * Blacklists (or clears) fans by row id; each activity's counter applies it, so counting sees it
 * at once. Returns the fans changed, by activity. The blacklist bars a fan from an activity, so a promo fan's row (no activity) has none.
 */
export async function setBlacklist(
  { db, counters }: { db: Db; counters: Counters },
  userId: number,
  ids: number[],
  black: boolean,
): Promise<{ activityId: number; ids: number[] }[]> {
  const rows = await db
    .select({ id: t.id, activityId: t.activityId, accountId: t.accountId, openId: t.openId })
    .from(t)
    // One JSON parameter for any number of ids: D1 binds at most 100 parameters a statement.
    .where(and(sql`${t.id} in (select value from json_each(${JSON.stringify(ids)}))`, eq(t.mtbUserId, userId)));
  if (rows.length !== new Set(ids).size) throw new AppError('not_found', '部分粉丝不存在或不属于你的活动');
  const promoFans = rows.filter((r) => r.activityId === null);
  if (promoFans.length) {
    throw new AppError('conflict', `${promoFans.length} 位粉丝只通过推广码关注、还没有参与活动，黑名单只对活动参与者有效`);
  }
  const byActivity = Map.groupBy(rows, (r) => r.activityId!);
  for (const [activityId, fans] of byActivity) {
    unwrap(
      await counters(activityId).setBlack(
        activityId,
        fans.map((f) => ({ rowId: f.id, accountId: f.accountId, openId: f.openId })),
        black,
      ),
    );
  }
  return [...byActivity].map(([activityId, fans]) => ({ activityId, ids: fans.map((f) => f.id) }));
}

/** The filtered fans, newest first, a page of rows at a time (an export streams these). */
export async function* fanPages(db: Db, userId: number, f: FanFilters, pageSize = 1000): AsyncGenerator<FanRow[]> {
  const { key, ids } = matching(db, userId, f);
  for (let cursor = Number.MAX_SAFE_INTEGER; ; ) {
    const rows = await fanQuery(db, inArray(t.id, ids(lt(key, cursor)).orderBy(desc(key)).limit(pageSize))!).orderBy(desc(t.id));
    if (!rows.length) return;
    yield rows;
    cursor = rows[rows.length - 1].row.id;
  }
}

import { and, count, desc, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { AppError } from '../errors';
import { unwrap } from '../rpc-result';
import { likePattern } from './activities';
import { activityCounter } from './counter';
import { isoShanghai } from './time';

export interface FanFilters {
  activity?: number;
  account?: string;
  promo?: number;
  origin?: 'poster' | 'promo' | 'other';
  following?: boolean;
  black?: boolean;
  progress?: number;
  q?: string;
}

const ORIGIN = { poster: 0, promo: 1, other: 2 } as const;
/** The fans list counts matches up to this many and then says "10,000+". */
export const TOTAL_CAP = 10_000;
const t = schema.takePartIn;
const inviter = alias(schema.takePartIn, 'inviter');

/** Every fan row the operator may see, narrowed by the filters of PRODUCT §2.7. */
function fanWhere(userId: number, f: FanFilters): SQL {
  return and(
    // With a narrower filter, "+column" keeps SQLite from picking the operator's (widest) index.
    f.activity !== undefined || f.account !== undefined || f.promo !== undefined ? sql`+${t.mtbUserId} = ${userId}` : eq(t.mtbUserId, userId),
    f.activity !== undefined ? eq(t.activityId, f.activity) : undefined,
    f.account !== undefined ? eq(schema.publicNumbers.authorizerAppid, f.account) : undefined,
    f.promo !== undefined ? and(eq(t.origin, 1), eq(t.originOpenId, String(f.promo))) : undefined,
    f.origin !== undefined ? eq(t.origin, ORIGIN[f.origin]) : undefined,
    f.following !== undefined ? eq(t.looking, f.following ? 0 : 1) : undefined,
    f.black !== undefined ? eq(t.black, f.black ? 1 : 0) : undefined,
    f.progress !== undefined ? eq(t.taskProgress, f.progress) : undefined,
    f.q ? sql`${t.nickName} LIKE ${likePattern(f.q)} ESCAPE '\\'` : undefined,
  )!;
}

function fanQuery(db: Db, where: SQL) {
  return db
    .select({
      row: t,
      activityName: schema.activity.name,
      appid: schema.publicNumbers.authorizerAppid,
      accountName: schema.publicNumbers.nickName,
      inviterName: inviter.nickName,
      promoName: schema.promo.name,
      promoDeleted: schema.promo.deletedAt,
    })
    .from(t)
    .innerJoin(schema.activity, eq(schema.activity.id, t.activityId))
    .innerJoin(schema.publicNumbers, eq(schema.publicNumbers.id, t.publicNumberId))
    .leftJoin(inviter, and(eq(t.origin, 0), eq(inviter.activityId, t.activityId), eq(inviter.publicNumberId, t.publicNumberId), eq(inviter.openId, t.originOpenId)))
    .leftJoin(schema.promo, and(eq(t.origin, 1), eq(schema.promo.id, sql<number>`CAST(${t.originOpenId} AS INTEGER)`)))
    .where(where);
}

type FanRow = Awaited<ReturnType<ReturnType<typeof fanQuery>['all']>>[number];

function originLabel(r: FanRow): string {
  if (r.row.origin === 0) return `${r.inviterName || '好友'} 的海报`;
  if (r.row.origin === 1) return r.promoName ? `推广码：${r.promoName}${r.promoDeleted ? '（已删除）' : ''}` : '推广码';
  return '其他';
}

export function fanView(r: FanRow) {
  return {
    id: r.row.id,
    open_id: r.row.openId,
    nick_name: r.row.nickName,
    avatar: r.row.avatar,
    account: { appid: r.appid, nick_name: r.accountName },
    activity: { id: r.row.activityId, name: r.activityName },
    origin: r.row.origin,
    origin_label: originLabel(r),
    level: r.row.level,
    number: r.row.number,
    task_progress: r.row.taskProgress,
    following: r.row.looking === 0,
    black: r.row.black === 1,
    part_in: r.row.partIn,
    ctime: isoShanghai(r.row.ctime),
    subscribe_time: r.row.subscribeTime ? isoShanghai(r.row.subscribeTime) : null,
  };
}

export async function listFans(db: Db, userId: number, f: FanFilters, page: number, pageSize: number) {
  const where = fanWhere(userId, f);
  // Not db.batch(): D1 batch rows are keyed by column name, and this join repeats names ("name").
  // The total is counted up to a cap: an exact count of a million rows costs more than the page.
  const counted = db.select({ one: sql`1` }).from(t).innerJoin(schema.publicNumbers, eq(schema.publicNumbers.id, t.publicNumberId)).where(where).limit(TOTAL_CAP + 1);
  // Deferred join: the offset walks the narrow id index; only the page's rows get the joins.
  const pageIds = db.select({ id: t.id }).from(t).innerJoin(schema.publicNumbers, eq(schema.publicNumbers.id, t.publicNumberId))
    .where(where).orderBy(desc(t.id)).limit(pageSize).offset((page - 1) * pageSize);
  const [rows, [{ total }]] = await Promise.all([
    fanQuery(db, inArray(t.id, pageIds)!).orderBy(desc(t.id)),
    db.select({ total: count() }).from(counted.as('counted')),
  ]);
  return { items: rows.map(fanView), total: Math.min(total, TOTAL_CAP), total_capped: total > TOTAL_CAP, page, page_size: pageSize };
}

/** Blacklists (or clears) fans by row id; each activity's counter applies it, so counting sees it at once. */
export async function setBlacklist(db: Db, env: Env, userId: number, ids: number[], black: boolean): Promise<number> {
  const rows = await db
    .select({ id: t.id, activityId: t.activityId, publicNumberId: t.publicNumberId, openId: t.openId })
    .from(t)
    .innerJoin(schema.activity, eq(schema.activity.id, t.activityId))
    .where(and(inArray(t.id, ids), eq(schema.activity.mtbUserId, userId)));
  if (rows.length !== new Set(ids).size) throw new AppError('not_found', '部分粉丝不存在或不属于你的活动');
  const byActivity = Map.groupBy(rows, (r) => r.activityId);
  for (const [activityId, fans] of byActivity) {
    unwrap(await activityCounter(env, activityId).setBlack(activityId, fans.map((f) => ({ rowId: f.id, publicNumberId: f.publicNumberId, openId: f.openId })), black));
  }
  return rows.length;
}

const CSV_COLUMNS = ['ID', '昵称', 'OpenID', '公众号', '活动', '来源', '层级', '助力数', '任务进度', '关注状态', '黑名单', '参与时间'] as const;

/** A CSV cell: quoted, and defused when a spreadsheet would read it as a formula. */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

/** Streams the filtered fans as CSV in id-keyed pages, never holding the whole set in memory. */
export function exportFans(db: Db, userId: number, f: FanFilters): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const where = fanWhere(userId, f);
  let cursor = Number.MAX_SAFE_INTEGER;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(`\uFEFF${CSV_COLUMNS.join(',')}\r\n`));
        return;
      }
      const rows = await fanQuery(db, and(where, lt(t.id, cursor))!).orderBy(desc(t.id)).limit(1000);
      if (!rows.length) return controller.close();
      cursor = rows[rows.length - 1].row.id;
      const lines = rows.map((r) => {
        const v = fanView(r);
        return [v.id, v.nick_name, v.open_id, v.account.nick_name, v.activity.name, v.origin_label, v.level, v.number, v.task_progress, v.following ? '关注中' : '已取关', v.black ? '是' : '否', v.ctime].map(csvCell).join(',');
      });
      controller.enqueue(encoder.encode(`${lines.join('\r\n')}\r\n`));
    },
  });
}

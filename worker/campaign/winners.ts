/**
 * Every write to `winner` goes through this module. The activity's counter creates prize records
 * (and holds, releases or voids them) through its outbox with the statements below; later steps
 * are the fan's and the operator's, each a guarded update that moves a prize only from the status
 * it must be in, so two staff redeeming one code at once get one 200 and one 409.
 */
import { and, asc, count, desc, eq, gt, inArray, lt, or, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { AppError, notFound } from '../errors';
import { formatShanghai } from '../lib/time';
import type { Notice, Outbox } from '../messaging/outbox';
import type { PrizeKind } from './activity-input';
import { type Cursor, encodeCursor } from './cursor';
import { shippedNote } from './prize-notices';
import { likePattern } from './search';

const w = schema.winner;
export type WinnerStatus = (typeof schema.WINNER_STATUSES)[number];
export type Winner = typeof w.$inferSelect;

// The counter's writes, each one statement over a JSON array of rows (json_each), like its
// take_part_in writes (participants.ts). Every value is the counter's whole record, so a round
// applied twice changes nothing twice.

/**
 * Prizes: [activityId, ownerRowId, accountId, openId, level, kind, good, status, code, at], the
 * counter's status being won, held or void. A replayed creation never undoes a later step: a
 * fulfilled or void prize stays so, and a claimed one stays claimed when released.
 */
export const WINNERS = `INSERT INTO winner (activity_id, mtb_user_id, part_in_id, public_number_id, open_id, level, kind, good, status, code, won_at, updated_at)
  SELECT p.value ->> 0, (SELECT mtb_user_id FROM activity WHERE id = p.value ->> 0), p.value ->> 1, p.value ->> 2, p.value ->> 3, p.value ->> 4,
    p.value ->> 5, p.value ->> 6, p.value ->> 7, p.value ->> 8, p.value ->> 9, p.value ->> 9
  FROM json_each(?1) AS p WHERE true
  ON CONFLICT (activity_id, part_in_id, level) DO UPDATE SET
    status = CASE WHEN winner.status IN ('fulfilled', 'void') THEN winner.status
      WHEN excluded.status = 'won' AND winner.claimed_at IS NOT NULL THEN 'claimed' ELSE excluded.status END,
    updated_at = excluded.updated_at`;

/** 兑换码 imported into a code tier: [activityId, level, code, at]. */
export const IMPORTED_CODES = `INSERT INTO prize_code (activity_id, level, code, imported_at)
  SELECT c.value ->> 0, c.value ->> 1, c.value ->> 2, c.value ->> 3 FROM json_each(?1) AS c WHERE true
  ON CONFLICT DO NOTHING`;

/** An activity whose prizes are all gone ends itself: [activityId, at], never moving an end later. */
export const ACTIVITY_ENDED = `UPDATE activity SET end_time = e.value ->> 1, updated_at = e.value ->> 1 FROM json_each(?1) AS e
  WHERE activity.id = e.value ->> 0 AND activity.end_time > e.value ->> 1`;

/** Winners' contact details are erased this long after their activity ended (and its claim deadline passed). */
export const CONTACT_RETENTION_DAYS = 90;
const DAY = 86_400_000;

export interface WinnerFilters {
  level?: number;
  kind?: PrizeKind;
  status?: WinnerStatus;
  /** Part of a nickname, a phone number or a code. */
  q?: string;
}

/** A winner with the fan's nickname and avatar (from their poster). */
export type WinnerRow = { winner: Winner; nickName: string | null; avatar: string | null };

function winnerWhere(userId: number, activityId: number, f: WinnerFilters): SQL {
  const pattern = f.q ? likePattern(f.q) : '';
  return and(
    eq(w.mtbUserId, userId),
    eq(w.activityId, activityId),
    f.level !== undefined ? eq(w.level, f.level) : undefined,
    f.kind !== undefined ? eq(w.kind, f.kind) : undefined,
    f.status !== undefined ? eq(w.status, f.status) : undefined,
    f.q
      ? or(
          sql`${schema.takePartIn.nickName} LIKE ${pattern} ESCAPE '\\'`,
          sql`${w.contactPhone} LIKE ${pattern} ESCAPE '\\'`,
          sql`${w.code} LIKE ${pattern} ESCAPE '\\'`,
        )
      : undefined,
  )!;
}

function winnerQuery(db: Db, where: SQL) {
  return db
    .select({ winner: w, nickName: schema.takePartIn.nickName, avatar: schema.takePartIn.avatar })
    .from(w)
    .leftJoin(schema.takePartIn, eq(schema.takePartIn.id, w.partInId))
    .where(where);
}

/** The list counts matches up to this many. */
export const WINNERS_TOTAL_CAP = 10_000;

/**
 * One page of an activity's winners, newest first, with cursors either side (cursor.ts). The
 * total is counted (up to WINNERS_TOTAL_CAP) on the first page; a cursor carries it on.
 */
export async function listWinners(db: Db, userId: number, activityId: number, f: WinnerFilters, cursor: Cursor | null, pageSize: number) {
  const where = winnerWhere(userId, activityId, f);
  const back = cursor?.dir === 'before';
  const keyset = cursor ? (back ? gt(w.id, cursor.id) : lt(w.id, cursor.id)) : undefined;
  const page = winnerQuery(db, and(where, keyset)!)
    .orderBy(back ? asc(w.id) : desc(w.id))
    .limit(pageSize + 1);
  const [rows, counted] = cursor
    ? [await page, null]
    : await Promise.all([
        page,
        db
          .select({ n: count() })
          .from(
            winnerQuery(db, where)
              .limit(WINNERS_TOTAL_CAP + 1)
              .as('matching'),
          )
          .get(),
      ]);
  const more = rows.length > pageSize;
  const items = (back ? rows.slice(0, pageSize).reverse() : rows.slice(0, pageSize)) as WinnerRow[];
  const pageNo = cursor ? (back && !more ? 1 : cursor.page) : 1;
  const total = counted ? Math.min(counted.n, WINNERS_TOTAL_CAP) : cursor!.total;
  const capped = counted ? counted.n > WINNERS_TOTAL_CAP : cursor!.capped;
  const [first, last] = [items[0], items.at(-1)];
  const older = back || more;
  const newer = back ? more : pageNo > 1;
  return {
    items,
    total,
    total_capped: capped,
    page: pageNo,
    page_size: pageSize,
    next_cursor: older && last ? encodeCursor({ dir: 'after', id: last.winner.id, page: pageNo + 1, total, capped }) : null,
    prev_cursor: newer && first ? encodeCursor({ dir: 'before', id: first.winner.id, page: Math.max(1, pageNo - 1), total, capped }) : null,
  };
}

/** The filtered winners, newest first, a page at a time (an export streams these). */
export async function* winnerPages(db: Db, userId: number, activityId: number, f: WinnerFilters, pageSize = 1000): AsyncGenerator<WinnerRow[]> {
  const where = winnerWhere(userId, activityId, f);
  for (let before = Number.MAX_SAFE_INTEGER; ; ) {
    const rows = (await winnerQuery(db, and(where, lt(w.id, before))!)
      .orderBy(desc(w.id))
      .limit(pageSize)) as WinnerRow[];
    if (!rows.length) return;
    yield rows;
    before = rows[rows.length - 1].winner.id;
  }
}

/** Prizes still open to an action: not delivered, not void, not held for review. */
const OPEN: WinnerStatus[] = ['won', 'claimed'];

/** The prize's activity still takes claims (no claim deadline, or not past it). */
const claimsOpen = (now: number) => sql`${w.activityId} IN (SELECT id FROM activity WHERE claim_deadline IS NULL OR claim_deadline > ${now})`;

/**
 * 核销: staff redeem an onsite claim code of this operator's, once. 404 when no onsite prize of
 * theirs has that code, 409 when it was redeemed already (or cannot be: held, void, past the
 * claim deadline). One guarded UPDATE decides, so of two staff redeeming at once one succeeds.
 */
export async function redeemCode(db: Db, userId: number, code: string, now: number): Promise<WinnerRow> {
  const mine = and(eq(w.mtbUserId, userId), eq(w.kind, 'onsite'), eq(w.code, code));
  const [done] = await db
    .update(w)
    .set({ status: 'fulfilled', claimedAt: sql`coalesce(${w.claimedAt}, ${now})`, fulfilledAt: now, updatedAt: now })
    .where(and(mine, inArray(w.status, OPEN), claimsOpen(now)))
    .returning({ id: w.id });
  const [row] = (await winnerQuery(db, mine!).limit(1)) as WinnerRow[];
  if (!row) throw notFound('核销码');
  if (done) return row;
  throw new AppError('conflict', refusal(row.winner, '核销'));
}

/** Why a prize cannot take a step (redeem, ship) now. */
function refusal(x: Winner, step: string): string {
  if (x.status === 'fulfilled') return step === '核销' ? `该核销码已于 ${formatShanghai(x.fulfilledAt ?? 0)} 核销过` : '该奖品已发货';
  if (x.status === 'held') return `该奖品所属海报正在审核，审核通过后才能${step}`;
  if (x.status === 'void') return '该奖品已作废';
  return `已过领奖截止时间，不能${step}`;
}

export interface ShipDeps {
  db: Db;
  outbox: Outbox;
}

/**
 * Marks a shipping prize sent with its courier and tracking number and tells the fan. Only a
 * claimed prize (the fan gave an address) can ship; a shipped one is not shipped again (409).
 */
export async function shipWinner(deps: ShipDeps, userId: number, winnerId: number, p: { company: string; trackingNo: string }, now: number): Promise<Winner> {
  const { db } = deps;
  const mine = and(eq(w.id, winnerId), eq(w.mtbUserId, userId));
  const [done] = await db
    .update(w)
    .set({ status: 'fulfilled', shipCompany: p.company, trackingNo: p.trackingNo, fulfilledAt: now, updatedAt: now })
    .where(and(mine, eq(w.kind, 'shipping'), eq(w.status, 'claimed')))
    .returning();
  if (!done) {
    const x = await db.query.winner.findFirst({ where: mine });
    if (!x) throw notFound('中奖记录');
    if (x.kind !== 'shipping') throw new AppError('conflict', '只有实物邮寄的奖品需要发货');
    throw new AppError('conflict', x.status === 'won' ? '粉丝还没有填写收货地址' : refusal(x, '发货'));
  }
  await notifyShipped(deps, done);
  return done;
}

/** Tells the fan their prize shipped (the scene `shipped`, worded by the queue consumer with the activity's texts). */
async function notifyShipped(deps: ShipDeps, x: Winner): Promise<void> {
  const account = await deps.db.query.publicNumbers.findFirst({ where: eq(schema.publicNumbers.id, x.accountId), columns: { authorizerAppid: true } });
  const note = shippedNote(x.good, x.shipCompany ?? '', x.trackingNo ?? '');
  const notice: Notice = {
    kind: 'notice',
    key: `shipped:${x.id}`,
    appid: account!.authorizerAppid,
    openId: x.openId,
    activityId: x.activityId,
    rowId: x.partInId,
    ...note,
  };
  await deps.outbox.send([notice]);
}

/** One line of a bulk shipment: the winner's id, courier, tracking number. */
export interface ShipLine {
  line: number;
  winnerId: number;
  company: string;
  trackingNo: string;
}

/** Ships each line of a CSV (lines that cannot ship are reported with why; the others ship). */
export async function shipMany(deps: ShipDeps, userId: number, activityId: number, lines: ShipLine[], now: number) {
  const errors: { line: number; message: string }[] = [];
  let shippedCount = 0;
  const ids = lines.map((l) => l.winnerId);
  const known = new Set(
    ids.length
      ? (
          await deps.db
            .select({ id: w.id })
            .from(w)
            .where(and(eq(w.mtbUserId, userId), eq(w.activityId, activityId), inArray(w.id, ids)))
        ).map((r) => r.id)
      : [],
  );
  for (const l of lines) {
    if (!known.has(l.winnerId)) {
      errors.push({ line: l.line, message: `中奖记录 ${l.winnerId} 不属于这个活动` });
      continue;
    }
    try {
      await shipWinner(deps, userId, l.winnerId, l, now);
      shippedCount++;
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      errors.push({ line: l.line, message: e.message });
    }
  }
  return { shipped: shippedCount, errors };
}

/** Erases the contact details of an activity's winners (name, phone, region, address). */
export async function eraseContacts(db: Db, userId: number, activityId: number, now: number): Promise<number> {
  const erased = await db
    .update(w)
    .set({ contactName: null, contactPhone: null, contactRegion: null, contactAddress: null, contactErasedAt: now, updatedAt: now })
    .where(and(eq(w.mtbUserId, userId), eq(w.activityId, activityId), sql`${w.contactName} IS NOT NULL`))
    .returning({ id: w.id });
  return erased.length;
}

/** Hourly: erases winners' contacts CONTACT_RETENTION_DAYS after their activity's end (and claim deadline). */
export async function eraseExpiredContacts(db: Db, now: number): Promise<number> {
  const cutoff = now - CONTACT_RETENTION_DAYS * DAY;
  const erased = await db
    .update(w)
    .set({ contactName: null, contactPhone: null, contactRegion: null, contactAddress: null, contactErasedAt: now, updatedAt: now })
    .where(
      and(sql`${w.contactName} IS NOT NULL`, sql`${w.activityId} IN (SELECT id FROM activity WHERE max(end_time, coalesce(claim_deadline, 0)) < ${cutoff})`),
    )
    .returning({ id: w.id });
  return erased.length;
}

/** A fan's prizes in one activity (their poster's row), by tier. */
export function prizesOf(db: Db, activityId: number, partInId: number): Promise<Winner[]> {
  return db.query.winner.findMany({ where: and(eq(w.activityId, activityId), eq(w.partInId, partInId)), orderBy: asc(w.level) });
}

/**
 * The fan opened their claim page: a 兑换码 shown is a prize in hand (fulfilled), an onsite
 * prize whose claim code they now hold is claimed. Past the claim deadline nothing is revealed.
 */
export async function revealPrizes(db: Db, activityId: number, partInId: number, now: number): Promise<void> {
  const fan = and(eq(w.activityId, activityId), eq(w.partInId, partInId), eq(w.status, 'won'));
  await db.batch([
    db
      .update(w)
      .set({ status: 'fulfilled', claimedAt: now, fulfilledAt: now, updatedAt: now })
      .where(and(fan, eq(w.kind, 'code'))),
    db
      .update(w)
      .set({ status: 'claimed', claimedAt: now, updatedAt: now })
      .where(and(fan, eq(w.kind, 'onsite'))),
  ]);
}

/** A shipping address as the claim page takes it. */
export interface Contact {
  name: string;
  phone: string;
  region: string;
  address: string;
}

/** The fan gives (or corrects) the address of a shipping prize, until it ships. Returns false when it cannot take one now. */
export async function saveAddress(db: Db, activityId: number, partInId: number, winnerId: number, c: Contact, now: number): Promise<boolean> {
  const [saved] = await db
    .update(w)
    .set({
      contactName: c.name,
      contactPhone: c.phone,
      contactRegion: c.region,
      contactAddress: c.address,
      contactErasedAt: null,
      status: 'claimed',
      claimedAt: sql`coalesce(${w.claimedAt}, ${now})`,
      updatedAt: now,
    })
    .where(and(eq(w.id, winnerId), eq(w.activityId, activityId), eq(w.partInId, partInId), eq(w.kind, 'shipping'), inArray(w.status, OPEN), claimsOpen(now)))
    .returning({ id: w.id });
  return Boolean(saved);
}

/** Per tier: prizes taken (any status, void included: stock is not given back) and by status. */
export function tierTallies(db: Db, activityIds: number[] | SQLWrapper) {
  return db
    .select({
      activityId: w.activityId,
      level: w.level,
      taken: count(),
      won: sql<number>`sum(${w.status} != 'void')`,
      claimed: sql<number>`sum(${w.status} = 'claimed')`,
      fulfilled: sql<number>`sum(${w.status} = 'fulfilled')`,
    })
    .from(w)
    .where(inArray(w.activityId, activityIds))
    .groupBy(w.activityId, w.level);
}

/** Per tier: 兑换码 imported. */
export function importedCodeCounts(db: Db, activityIds: number[] | SQLWrapper) {
  return db
    .select({ activityId: schema.prizeCode.activityId, level: schema.prizeCode.level, codes: count() })
    .from(schema.prizeCode)
    .where(inArray(schema.prizeCode.activityId, activityIds))
    .groupBy(schema.prizeCode.activityId, schema.prizeCode.level);
}

/** What is left of a tier: null when nothing limits it; else its stock and (code tiers) codes, less what was taken. */
export function tierLeft(tier: { stock: number | null; kind: PrizeKind }, taken: number, codes: number): number | null {
  const limits = [tier.stock === null ? null : tier.stock - taken, tier.kind === 'code' ? codes - taken : null].filter((x): x is number => x !== null);
  return limits.length ? Math.max(0, Math.min(...limits)) : null;
}

/** Whether the activity's claim deadline (if any) has passed. */
export const claimsClosed = (activity: { claimDeadline: number | null }, now: number) => activity.claimDeadline !== null && now >= activity.claimDeadline;

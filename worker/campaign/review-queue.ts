/**
 * The review queue in D1 (防刷, PRODUCT §3.3): posters the burst rule flagged (`review`) and the
 * assists held or waiting (`assist_hold`). The activity's counter writes both through its outbox
 * with the statements below, each row its whole current state; this module also reads the queue
 * with each poster's evidence for the operator.
 */
import { and, asc, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { Looking, Origin } from '../db/values';
import type { ReviewStatus } from './counter/fair-play';

/** Held or waiting assists: [activityId, accountId, openId, ownerRowId, reason, at, dueAt, outcome, resolvedAt, leftAt]. */
export const ASSIST_HOLDS = `INSERT INTO assist_hold (activity_id, public_number_id, open_id, owner_row_id, reason, at, due_at, outcome, resolved_at, left_at)
  SELECT h.value ->> 0, h.value ->> 1, h.value ->> 2, h.value ->> 3, h.value ->> 4, h.value ->> 5, h.value ->> 6, h.value ->> 7, h.value ->> 8, h.value ->> 9
  FROM json_each(?1) AS h WHERE true
  ON CONFLICT (activity_id, public_number_id, open_id) DO UPDATE SET owner_row_id = excluded.owner_row_id, reason = excluded.reason,
    at = excluded.at, due_at = excluded.due_at, outcome = excluded.outcome, resolved_at = excluded.resolved_at, left_at = excluded.left_at`;

/** Posters' reviews: [activityId, ownerRowId, status, flaggedAt, decidedAt, decidedBy]. */
export const REVIEWS = `INSERT INTO review (activity_id, mtb_user_id, part_in_id, status, flagged_at, decided_at, decided_by)
  SELECT r.value ->> 0, (SELECT mtb_user_id FROM activity WHERE id = r.value ->> 0), r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4, r.value ->> 5
  FROM json_each(?1) AS r WHERE true
  ON CONFLICT (activity_id, part_in_id) DO UPDATE SET status = excluded.status, flagged_at = excluded.flagged_at,
    decided_at = excluded.decided_at, decided_by = excluded.decided_by`;

const t = schema.takePartIn;
const r = schema.review;
const h = schema.assistHold;

/** The evidence's timeline has at most this many points (the bucket widens for longer spans). */
const TIMELINE_POINTS = 60;
/** Helpers read per poster for its evidence (a burst worth reviewing is far below this). */
const EVIDENCE_HELPERS = 2000;

/** One point of a poster's assist timeline: assists per bucket, counted and not (held, waiting or dropped). */
export interface TimelinePoint {
  at: number;
  counted: number;
  held: number;
}

/** What the operator weighs before deciding on a flagged poster. */
export interface Evidence {
  /** Assists over time, in buckets of `bucketSeconds`. */
  bucketSeconds: number;
  timeline: TimelinePoint[];
  /** Helpers who came through the poster, and how many have unfollowed since. */
  helpers: number;
  left: number;
  held: number;
  /** From the owner asking for the poster to the first assist, seconds. */
  firstAssistAfterSeconds: number | null;
  /** Typical seconds between consecutive assists (the median). */
  medianGapSeconds: number | null;
  /** Of those who left: typical seconds they stayed followed (the median). */
  medianStaySeconds: number | null;
}

const median = (xs: number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};

/** Buckets assist times into a timeline of at most TIMELINE_POINTS points, whole minutes wide at least. */
export function timeline(assists: readonly { at: number; held: boolean }[]): { bucketSeconds: number; points: TimelinePoint[] } {
  if (!assists.length) return { bucketSeconds: 60, points: [] };
  const first = Math.min(...assists.map((a) => a.at));
  const last = Math.max(...assists.map((a) => a.at));
  const bucketSeconds = Math.max(60, Math.ceil((last - first + 1) / 1000 / TIMELINE_POINTS / 60) * 60);
  const start = Math.floor(first / 60_000) * 60_000;
  const count = Math.floor((last - start) / (bucketSeconds * 1000)) + 1;
  const points = Array.from({ length: count }, (_, i) => ({ at: start + i * bucketSeconds * 1000, counted: 0, held: 0 }));
  for (const a of assists) {
    const p = points[Math.floor((a.at - start) / (bucketSeconds * 1000))];
    if (a.held) p.held++;
    else p.counted++;
  }
  return { bucketSeconds, points };
}

/** A poster in the review queue, with its owner's counts and the evidence. */
export interface ReviewItem {
  review: typeof r.$inferSelect;
  owner: { openId: string; nickName: string | null; avatar: string | null; number: number; ctime: number };
  evidence: Evidence;
}

/** Reviews of one activity (flagged first by default), newest flag first, a page at a time by id. */
export async function listReviews(db: Db, userId: number, activityId: number, f: { status?: ReviewStatus; before?: number }, pageSize: number) {
  const rows = await db
    .select({ review: r, owner: { openId: t.openId, accountId: t.accountId, nickName: t.nickName, avatar: t.avatar, number: t.number, ctime: t.ctime } })
    .from(r)
    .innerJoin(t, eq(t.id, r.partInId))
    .where(
      and(eq(r.mtbUserId, userId), eq(r.activityId, activityId), eq(r.status, f.status ?? 'flagged'), f.before !== undefined ? lt(r.id, f.before) : undefined),
    )
    .orderBy(desc(r.id))
    .limit(pageSize + 1);
  const page = rows.slice(0, pageSize);
  const items: ReviewItem[] = await Promise.all(page.map(async (x) => ({ ...x, evidence: await evidenceOf(db, activityId, x.review.partInId, x.owner) })));
  return { items, next: rows.length > pageSize ? page[page.length - 1].review.id : null };
}

/**
 * The evidence of one poster: when its helpers followed (counted ones from their take_part_in
 * rows, the others from their held or waiting records), which are held, and who has left since.
 */
async function evidenceOf(db: Db, activityId: number, ownerRowId: number, owner: { openId: string; accountId: number; ctime: number }): Promise<Evidence> {
  const [counted, uncounted] = await db.batch([
    db
      .select({ at: t.subscribeTime, left: t.unsubscribeTime, looking: t.looking })
      .from(t)
      .where(and(eq(t.activityId, activityId), eq(t.originOpenId, owner.openId), eq(t.accountId, owner.accountId), sql`${t.origin} = ${Origin.poster}`))
      .orderBy(asc(t.subscribeTime))
      .limit(EVIDENCE_HELPERS),
    db
      .select({ at: h.at, left: h.leftAt, reason: h.reason, outcome: h.outcome })
      .from(h)
      .where(and(eq(h.activityId, activityId), eq(h.ownerRowId, ownerRowId), sql`${h.outcome} IS NOT 'counted'`))
      .orderBy(asc(h.at))
      .limit(EVIDENCE_HELPERS),
  ]);
  // In the timeline every assist that did not count is "held": held for review, waiting, or dropped.
  const assists = [
    ...counted.flatMap((x) => (x.at === null ? [] : [{ at: x.at, held: false, left: x.looking === Looking.unfollowed ? x.left : null }])),
    ...uncounted.map((x) => ({ at: x.at, held: true, left: x.left })),
  ].sort((x, y) => x.at - y.at);
  const gone = assists.filter((x) => x.left !== null);
  const { bucketSeconds, points } = timeline(assists);
  return {
    bucketSeconds,
    timeline: points,
    helpers: assists.length,
    left: gone.length,
    held: uncounted.filter((x) => x.reason === 'burst' && x.outcome === null).length,
    firstAssistAfterSeconds: assists.length ? Math.round((assists[0].at - owner.ctime) / 1000) : null,
    medianGapSeconds: median(assists.slice(1).map((x, i) => (x.at - assists[i].at) / 1000)),
    medianStaySeconds: median(gone.map((x) => (x.left! - x.at) / 1000)),
  };
}

/** A poster's assists waiting for their helpers' stay period ("N 人待确认"). */
export async function waitingFor(db: Db, activityId: number, ownerRowId: number): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(h)
    .where(and(eq(h.activityId, activityId), eq(h.ownerRowId, ownerRowId), eq(h.reason, 'stay'), isNull(h.outcome)));
  return Number(row.n);
}

import { and, eq, or } from 'drizzle-orm';
import { type Db, schema } from '../db/client';
import { answerClaim } from './claim';
import { joinByKeyword } from './join';
import { answerProgress } from './progress-answer';
import type { KeywordActivity, KeywordAnswer, PushAnswer, PushContext } from './push-context';

/** What a fan's text can be to an account's activities: the join keyword, the progress keyword (进度) or the claim keyword (领奖). */
export type KeywordRole = 'join' | 'progress' | 'claim';

/** The roles answered, each by one function, in the order a text is tried. */
const ANSWERS: Record<KeywordRole, KeywordAnswer> = { join: joinByKeyword, progress: answerProgress, claim: answerClaim };
const ROLES: KeywordRole[] = ['join', 'progress', 'claim'];

/** Keywords are at most 10 characters (seed §7.1). */
export const MAX_KEYWORD = 10;

/** The account's activities using `text` as any of their keywords (deleted ones too), with the role it plays in each. */
async function activitiesUsing(db: Db, accountId: number, text: string): Promise<(KeywordActivity & { role: KeywordRole })[]> {
  const ps = schema.posterSetting;
  const rows = await db
    .select({ activity: schema.activity, poster: ps })
    .from(ps)
    .innerJoin(schema.activity, eq(schema.activity.id, ps.activityId))
    .innerJoin(schema.publicJoinActivity, eq(schema.publicJoinActivity.activityId, schema.activity.id))
    .where(and(or(eq(ps.keyWord, text), eq(ps.progressKeyword, text), eq(ps.claimKeyword, text)), eq(schema.publicJoinActivity.accountId, accountId)));
  return rows.map((r) => ({ ...r, role: r.poster.keyWord === text ? 'join' : r.poster.progressKeyword === text ? 'progress' : 'claim' }));
}

/** How far an activity's window is from `now` (-1 while it runs): the running one first, else the nearest. */
const distance = (a: { startTime: number; endTime: number }, now: number) => (now < a.startTime ? a.startTime - now : now >= a.endTime ? now - a.endTime : -1);
const deleted = (a: { deletedAt: number | null }) => (a.deletedAt === null ? 0 : 1);

/**
 * A fan sent a text: if it is a keyword of the account's activities, its answer (a join keyword
 * wins over the shared ones); other texts are not the campaign's (null).
 */
export async function answerKeyword(ctx: PushContext): Promise<PushAnswer | null> {
  const text = (ctx.msg.Content ?? '').trim();
  if (!text || text.length > MAX_KEYWORD) return null;
  const found = await activitiesUsing(ctx.deps.db, ctx.account.id, text);
  for (const role of ROLES) {
    const answer = ANSWERS[role];
    if (role === 'join') {
      // A join keyword names one activity: the running one, else the nearest in time; a deleted
      // one only when no other has it (its fans are told it has ended).
      const [nearest] = found
        .filter((f) => f.role === 'join')
        .sort((x, y) => deleted(x.activity) - deleted(y.activity) || distance(x.activity, ctx.now) - distance(y.activity, ctx.now));
      if (nearest) return answer(ctx, [nearest]);
      continue;
    }
    const using = found.filter((f) => f.role === role && f.activity.deletedAt === null);
    if (using.length) return answer(ctx, using);
  }
  return null;
}

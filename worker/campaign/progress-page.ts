import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { fanLink } from '../messaging/fan-links';
import type { Counters } from './counter/stub';
import type { FanRow } from './fan-access';
import { type FanProgress, leaderboard, maskName, progressOf } from './progress';
import { waitingFor } from './review-queue';

/** Helpers and leaders a fan's page lists. */
const RECENT_HELPERS = 10;
const LEADERS = 10;

/** What a fan's progress page shows: their standing, who helped them lately, the leaders (masked), and the claim link once a tier is reached. */
export interface ProgressPage {
  progress: FanProgress;
  helpers: { name: string; at: number }[];
  leaders: { name: string; number: number; me: boolean }[];
  claimUrl: string | null;
  /** Assists waiting for their helpers' stay period (防刷): "N 人待确认". */
  waiting: number;
}

/**
 * A fan's progress page, from D1 and the activity's counter (which keeps each poster's helpers,
 * so the latest are found without scanning the activity's rows). Other fans appear only by a
 * masked nickname ("小*").
 */
export async function progressPage(
  deps: { db: Db; shard: string; counters: Counters; config: { sessionSecret: string; publicBaseUrl: string } },
  { row }: FanRow,
  now: number,
): Promise<ProgressPage> {
  const activityId = row.activityId!;
  const [[progress], leaders, recent, waiting] = await Promise.all([
    progressOf(deps.db, [row]),
    leaderboard(deps.db, activityId, LEADERS),
    deps.counters(activityId).recentHelpers(row.id, RECENT_HELPERS),
    waitingFor(deps.db, activityId, row.id),
  ]);
  const t = schema.takePartIn;
  const named = recent.length
    ? await deps.db
        .select({ openId: t.openId, nickName: t.nickName })
        .from(t)
        .where(
          and(
            eq(t.accountId, row.accountId),
            inArray(
              t.openId,
              recent.map((h) => h.openId),
            ),
            isNotNull(t.nickName),
          ),
        )
    : [];
  return {
    progress,
    helpers: recent.map((h) => ({ name: maskName(named.find((n) => n.openId === h.openId)?.nickName), at: h.at })),
    leaders: leaders.map((l) => ({ name: maskName(l.nickName), number: l.number, me: l.id === row.id })),
    claimUrl: row.taskProgress > 0 ? await fanLink(deps, 'claim', row.id, now) : null,
    waiting,
  };
}

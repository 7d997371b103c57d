import { and, eq, gt, isNull, lte } from 'drizzle-orm';
import { schema } from '../db/client';
import { Looking } from '../db/values';
import { renderNotice, sceneText } from '../messaging/notices';
import { loadReachSettings } from '../messaging/reach-settings';
import { unwrap } from '../rpc-result';
import type { RefusalReason } from './counter/rules';
import { markAccountUnfollowed, recordPlainFollow } from './followers';
import { markUnfollowed } from './participants';
import { helperWaitingReply } from './prize-notices';
import { type PushContext, type PushReply, textReply } from './push-context';
import { parseScene } from './scene';
import { texts } from './texts';
import { tierName } from './tiers';

/** What a friend is told when their scan does not count (null: a poster that is nobody's, answered `success`). */
const REFUSAL_REPLY: Record<RefusalReason, string | null> = {
  self: texts.selfScan,
  blacklisted: texts.posterUnavailable,
  not_new: texts.notNew,
  already: texts.alreadyHelped,
  not_running: texts.activityOver,
  unknown_owner: null,
};

/** subscribe / SCAN / unsubscribe to an authorized account; other events are not the campaign's. */
export async function handleEvent(ctx: PushContext): Promise<PushReply> {
  const { deps, account, openId } = ctx;
  const event = ctx.msg.Event;
  const scene = parseScene(ctx.msg.EventKey, event ?? '');
  if (event === 'subscribe') {
    // Through a poster of this account: the activity's counter records the follow with the
    // decision (batched with other assists); any other follow is recorded here.
    if (scene?.kind === 'poster') {
      const owner = await posterOwner(ctx, scene.rowId);
      if (owner && owner.accountId === account.id) return assist(ctx, owner, scene.rowId);
    }
    const promo =
      scene?.kind === 'promo'
        ? await deps.db.query.promo.findFirst({ where: and(eq(schema.promo.id, scene.promoId), eq(schema.promo.accountId, account.id)) })
        : undefined;
    await recordPlainFollow(deps.db, {
      accountId: account.id,
      appid: account.authorizerAppid,
      openId,
      eventKey: ctx.dedupKey,
      promoId: promo?.id ?? null,
      at: ctx.pushedAt,
    });
    if (promo) await recordPromoFollow(ctx, promo.id);
    return null;
  }
  if (event === 'SCAN' && scene?.kind === 'poster') {
    // An existing follower never counts; tell them why (or that it is their own poster).
    const owner = await posterOwner(ctx, scene.rowId);
    if (!owner || owner.accountId !== account.id) return null;
    return textReply(owner.openId === openId ? texts.selfScan : texts.alreadyFollowing);
  }
  if (event === 'unsubscribe') await unfollow(ctx);
  return null;
}

type PosterOwner = { activityId: number; accountId: number; openId: string; nickName: string | null };
/** A poster row's activity, account and fan never change, so each isolate remembers them (bounded). */
const posterOwners = new Map<number, PosterOwner>();
const MAX_CACHED_OWNERS = 50_000;

/** The activity row a `1_{id}` scene names; a promo fan's row (no activity) has no poster. */
async function posterOwner(ctx: PushContext, rowId: number): Promise<PosterOwner | undefined> {
  const hit = posterOwners.get(rowId);
  if (hit) return hit;
  const row = await ctx.deps.db.query.takePartIn.findFirst({
    where: eq(schema.takePartIn.id, rowId),
    columns: { activityId: true, accountId: true, openId: true, nickName: true },
  });
  if (!row || row.activityId === null) return undefined;
  if (posterOwners.size >= MAX_CACHED_OWNERS) posterOwners.clear();
  const owner = { ...row, activityId: row.activityId };
  posterOwners.set(rowId, owner);
  return owner;
}

/**
 * A new follower through a poster: the activity's counter decides. A counted assist is thanked in
 * the reply (the scene helper_thanks, naming the inviter and the keyword), which the counter
 * records with its decision; a refusal says why when that helps.
 */
async function assist(ctx: PushContext, owner: PosterOwner, rowId: number): Promise<PushReply> {
  const { activityId } = owner;
  const thanks = await thanksFor(ctx, owner);
  const outcome = unwrap(
    await ctx.deps.counters(activityId).assist({
      eventKey: ctx.dedupKey,
      activityId,
      ownerRowId: rowId,
      accountId: ctx.account.id,
      appid: ctx.account.authorizerAppid,
      helperOpenId: ctx.openId,
      at: ctx.now,
      pushedAt: ctx.pushedAt,
      thanks,
    }),
  );
  // A held assist (its poster under review) is thanked like any other: the helper did nothing wrong.
  if (outcome.status === 'counted' || outcome.status === 'held') return textReply(thanks);
  if (outcome.status === 'waiting') return textReply(helperWaitingReply(thanks, Math.round((outcome.dueAt - ctx.now) / 3600_000)));
  const reply = REFUSAL_REPLY[outcome.reason];
  return reply === null ? null : textReply(reply);
}

/** The helper's thanks, worded with the activity's settings (held by the isolate, so an assist reads nothing more). */
async function thanksFor(ctx: PushContext, owner: PosterOwner): Promise<string> {
  const s = (await loadReachSettings(ctx.deps.db, [owner.activityId], ctx.now)).get(owner.activityId);
  if (!s) return texts.assistThanks;
  const first = s.tiers[0];
  return renderNotice(sceneText(s.notices, 'helper_thanks'), {
    nickname: owner.nickName || '好友',
    activity: s.name,
    rule: s.rule,
    keyword: s.keyword,
    end_time: s.endText,
    ...(first ? { good: first.good, tier: tierName(first.level), level: first.level } : {}),
  });
}

async function recordPromoFollow(ctx: PushContext, promoId: number) {
  await ctx.deps.db
    .insert(schema.promoFollow)
    .values({ promoId, accountId: ctx.account.id, openId: ctx.openId, subscribeTime: ctx.now })
    .onConflictDoUpdate({ target: [schema.promoFollow.promoId, schema.promoFollow.openId], set: { looking: Looking.following, unsubscribeTime: null } });
}

/**
 * `unsubscribe`: the fan's rows on this account stop "following"; every activity running on the
 * account gets a chance to take the assist back (its DO decides, by 取关扣助力, from its own
 * helper table). The DOs are asked rather than D1's counted rows because an assist answered a
 * moment ago may not have reached D1 yet; an activity outside its window never deducts.
 */
async function unfollow(ctx: PushContext) {
  const { deps, account, openId, now } = ctx;
  const { db } = deps;
  const pf = schema.promoFollow;
  const [, , , running] = await db.batch([
    markUnfollowed(db, account.id, openId, now),
    markAccountUnfollowed(db, account.id, openId),
    db
      .update(pf)
      .set({ looking: Looking.unfollowed, unsubscribeTime: now })
      .where(and(eq(pf.accountId, account.id), eq(pf.openId, openId), eq(pf.looking, Looking.following))),
    db
      .select({ id: schema.activity.id })
      .from(schema.activity)
      .innerJoin(schema.publicJoinActivity, eq(schema.publicJoinActivity.activityId, schema.activity.id))
      .where(
        and(
          eq(schema.publicJoinActivity.accountId, account.id),
          isNull(schema.activity.deletedAt),
          lte(schema.activity.startTime, now),
          gt(schema.activity.endTime, now),
        ),
      ),
  ]);
  // Each activity's counter decides alone, so they are asked at once.
  const outcomes = await Promise.all(
    running.map(({ id: activityId }) =>
      deps
        .counters(activityId)
        .unfollow({ eventKey: ctx.dedupKey, activityId, accountId: account.id, appid: account.authorizerAppid, helperOpenId: openId, at: now }),
    ),
  );
  for (const outcome of outcomes) unwrap(outcome);
}

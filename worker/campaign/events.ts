import { and, eq, gt, isNull, lte } from 'drizzle-orm';
import { loadConfig } from '../config';
import { schema } from '../db/client';
import type { RefusalReason } from './counter/activity-counter';
import { enqueueMessages } from '../messaging/outbox';
import type { PushContext, PushReply } from './push';
import { unwrap } from '../rpc-result';
import { authorizedAccount, recordPlainFollow, type Account } from './followers';
import { activityCounter } from './counter/stub';
import { joinByKeyword } from './join';
import { parseScene } from './scene';
import { texts } from './texts';

const REFUSAL_REPLY: Record<RefusalReason, string | null> = {
  self: texts.selfScan,
  blacklisted: null,
  not_new: texts.notNew,
  already: texts.alreadyHelped,
  not_running: texts.activityOver,
  unknown_owner: null,
};

/** A text to an authorized account: a keyword joins its activity; anything else is not ours. */
export async function handleTaskText(ctx: PushContext): Promise<PushReply> {
  const account = await authorizedAccount(ctx.db, ctx.appid);
  if (!account || !ctx.msg.FromUserName) return null;
  const config = loadConfig(ctx.env);
  const result = await joinByKeyword(
    {
      db: ctx.db,
      sessionSecret: config.sessionSecret,
      oauthUrl: (appid, state) => ctx.wechat.oauthAuthorizeUrl(appid, `${config.publicBaseUrl}/oauth/callback`, state),
    },
    account,
    ctx.msg.FromUserName,
    ctx.msg.Content ?? '',
    ctx.dedupKey,
    ctx.now,
  );
  await enqueueMessages(ctx.env, result.messages);
  return result.reply;
}

/** subscribe / SCAN / unsubscribe to an authorized account. */
export async function handleTaskEvent(ctx: PushContext): Promise<PushReply> {
  const account = await authorizedAccount(ctx.db, ctx.appid);
  const openId = ctx.msg.FromUserName;
  if (!account || !openId) return null;
  const event = ctx.msg.Event;
  const scene = parseScene(ctx.msg.EventKey, event ?? '');
  if (event === 'subscribe') {
    // Through a poster of this account: the activity's counter records the follow with the
    // decision (batched with other assists); any other follow is recorded here.
    if (scene?.kind === 'poster') {
      const owner = await posterOwner(ctx, scene.rowId);
      if (owner && owner.accountId === account.id) return assist(ctx, account, owner.activityId, scene.rowId, openId);
    }
    const promo = scene?.kind === 'promo' ? await ctx.db.query.promo.findFirst({ where: and(eq(schema.promo.id, scene.promoId), eq(schema.promo.accountId, account.id)) }) : undefined;
    await recordPlainFollow(ctx.db, { accountId: account.id, openId, eventKey: ctx.dedupKey, promoId: promo?.id ?? null, at: ctx.now });
    if (promo) await recordPromoFollow(ctx, account, promo.id, openId);
    return null;
  }
  if (event === 'SCAN' && scene?.kind === 'poster') {
    // An existing follower never counts; tell them why (or that it is their own poster).
    const owner = await posterOwner(ctx, scene.rowId);
    if (!owner || owner.accountId !== account.id) return null;
    return owner.openId === openId ? texts.selfScan : texts.alreadyFollowing;
  }
  if (event === 'unsubscribe') {
    await unfollow(ctx, account, openId);
    return null;
  }
  return null;
}

type PosterOwner = { activityId: number; accountId: number; openId: string };
/** A poster row's activity, account and fan never change, so each isolate remembers them (bounded). */
const posterOwners = new Map<number, PosterOwner>();
const MAX_CACHED_OWNERS = 50_000;

/** The activity row a `1_{id}` scene names; a promo fan's row (no activity) has no poster. */
async function posterOwner(ctx: PushContext, rowId: number): Promise<PosterOwner | undefined> {
  const hit = posterOwners.get(rowId);
  if (hit) return hit;
  const row = await ctx.db.query.takePartIn.findFirst({ where: eq(schema.takePartIn.id, rowId), columns: { activityId: true, accountId: true, openId: true } });
  if (!row || row.activityId === null) return undefined;
  if (posterOwners.size >= MAX_CACHED_OWNERS) posterOwners.clear();
  const owner = { ...row, activityId: row.activityId };
  posterOwners.set(rowId, owner);
  return owner;
}

async function assist(ctx: PushContext, account: Account, activityId: number, rowId: number, helperOpenId: string): Promise<PushReply> {
  const outcome = unwrap(
    await activityCounter(ctx.env, activityId).assist({
      eventKey: ctx.dedupKey,
      activityId,
      ownerRowId: rowId,
      accountId: account.id,
      appid: account.authorizerAppid,
      helperOpenId,
      at: ctx.now,
    }),
  );
  return outcome.status === 'counted' ? texts.assistThanks : REFUSAL_REPLY[outcome.reason];
}

async function recordPromoFollow(ctx: PushContext, account: Account, promoId: number, openId: string) {
  await ctx.db
    .insert(schema.promoFollow)
    .values({ promoId, accountId: account.id, openId, subscribeTime: ctx.now })
    .onConflictDoUpdate({ target: [schema.promoFollow.promoId, schema.promoFollow.openId], set: { looking: 0, unsubscribeTime: null } });
}

/**
 * `unsubscribe`: the fan's rows on this account stop "following"; every activity running on the
 * account gets a chance to take the assist back (its DO decides, by 取关扣助力, from its own
 * helper table). The DOs are asked rather than D1's counted rows because an assist answered a
 * moment ago may not have reached D1 yet; an activity outside its window never deducts.
 */
async function unfollow(ctx: PushContext, account: Account, openId: string) {
  const { db, now } = ctx;
  const [, , , running] = await db.batch([
    db.update(schema.takePartIn).set({ looking: 1, unsubscribeTime: now }).where(and(eq(schema.takePartIn.accountId, account.id), eq(schema.takePartIn.openId, openId))),
    db.update(schema.accountFan).set({ following: 0 }).where(and(eq(schema.accountFan.accountId, account.id), eq(schema.accountFan.openId, openId))),
    db.update(schema.promoFollow).set({ looking: 1, unsubscribeTime: now }).where(and(eq(schema.promoFollow.accountId, account.id), eq(schema.promoFollow.openId, openId), eq(schema.promoFollow.looking, 0))),
    db
      .select({ id: schema.activity.id })
      .from(schema.activity)
      .innerJoin(schema.publicJoinActivity, eq(schema.publicJoinActivity.activityId, schema.activity.id))
      .where(and(eq(schema.publicJoinActivity.accountId, account.id), isNull(schema.activity.deletedAt), lte(schema.activity.startTime, now), gt(schema.activity.endTime, now))),
  ]);
  // Each activity's counter decides alone, so they are asked at once.
  const outcomes = await Promise.all(
    running.map(({ id: activityId }) =>
      activityCounter(ctx.env, activityId).unfollow({
        eventKey: ctx.dedupKey,
        activityId,
        accountId: account.id,
        appid: account.authorizerAppid,
        helperOpenId: openId,
        at: now,
      }),
    ),
  );
  for (const outcome of outcomes) unwrap(outcome);
}


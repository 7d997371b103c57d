/**
 * The fan's side of prizes: the claim keyword's answer and the claim page (PRODUCT §3.2).
 */
import { z } from 'zod';
import type { Db } from '../db/client';
import { signRowToken, verifyRowToken } from '../lib/signed-token';
import { fanLink } from '../messaging/fan-links';
import { storedNotices } from '../messaging/notices';
import type { Replied } from '../messaging/outbox';
import { FAN_SESSION_TTL_MS, type FanRow } from './fan-access';
import { fanRowsFor } from './keyword-fans';
import { allClaimed, claimLine, nothingToClaim } from './prize-notices';
import { type KeywordActivity, type PushAnswer, type PushContext, textReply } from './push-context';
import { claimsClosed, prizesOf, revealPrizes, type Winner } from './winners';

const PENDING = new Set<Winner['status']>(['won', 'claimed', 'held']);

/**
 * The claim keyword (领奖 by default), answered in the reply itself: for each activity the fan
 * takes part in among those using the keyword, their prizes still to receive and the link to
 * their claim page (in the activity's `claim` words), or that they have none yet. A fan in none is
 * told how to join the running ones.
 */
export async function answerClaim(ctx: PushContext, activities: KeywordActivity[]): Promise<PushAnswer> {
  const { deps, account, openId, now } = ctx;
  const fan = await fanRowsFor(ctx, activities);
  if ('none' in fan) return fan.none;
  const { rows } = fan;
  const answers = await Promise.all(
    rows.map(async (row) => {
      const { activity } = activities.find((a) => a.activity.id === row.activityId)!;
      const prizes = (await prizesOf(deps.db, activity.id, row.id)).filter((p) => p.status !== 'void');
      if (!prizes.length) return { activityId: activity.id, text: nothingToClaim(activity.name) };
      const link = await fanLink(deps, 'claim', row.id, now);
      const pending = prizes.filter((p) => PENDING.has(p.status)).map((p) => p.good);
      const text = pending.length
        ? claimLine(storedNotices(activity.notices), { activity: activity.name, good: pending.join('、'), claim_url: link })
        : allClaimed(
            activity.name,
            prizes.map((p) => p.good),
            link,
          );
      return { activityId: activity.id, text };
    }),
  );
  const items = answers.map(
    (a): Replied => ({
      kind: 'replied',
      key: `${ctx.dedupKey}:claim:${a.activityId}`,
      appid: account.authorizerAppid,
      openId,
      activityId: a.activityId,
      scene: 'claim',
      summary: a.text,
      msgType: 'text',
    }),
  );
  return { reply: textReply(answers.map((a) => a.text).join('\n\n')), items };
}

/** What the claim page shows a fan: their prizes in the activity, and whether claims are closed. */
export interface ClaimView {
  prizes: Winner[];
  closed: boolean;
}

/**
 * The fan's prizes as their claim page shows them. Opening the page is claiming what can be
 * claimed by looking (a 兑换码, an onsite claim code), unless the claim deadline has passed.
 */
export async function claimView(db: Db, fan: FanRow, now: number): Promise<ClaimView> {
  const activityId = fan.activity.id;
  const closed = claimsClosed(fan.activity, now);
  if (!closed) await revealPrizes(db, activityId, fan.row.id, now);
  return { prizes: await prizesOf(db, activityId, fan.row.id), closed };
}

/** A shipping address as the claim page's form posts it. */
export const AddressForm = z.object({
  winner: z.coerce.number().int().positive(),
  name: z.string().trim().min(1, '请填写收货人姓名').max(20, '姓名最多 20 个字'),
  phone: z
    .string()
    .trim()
    .regex(/^1[3-9]\d{9}$/, '请填写 11 位中国大陆手机号'),
  region: z.string().trim().min(2, '请填写所在地区（省、市、区）').max(60, '所在地区最多 60 个字'),
  address: z.string().trim().min(4, '请填写详细地址（街道、门牌号）').max(120, '详细地址最多 120 个字'),
});
export type AddressForm = z.infer<typeof AddressForm>;

/** The claim page form's token: names the fan's row, so a post forged from elsewhere is refused. */
export const claimFormToken = (secret: string, rowId: number, now: number) => signRowToken(secret, 'claim-form', rowId, now + FAN_SESSION_TTL_MS);

/** Whether a posted form token is the one the fan's page gave them. */
export const isClaimFormToken = async (secret: string, token: string, rowId: number, now: number) =>
  (await verifyRowToken(secret, 'claim-form', token, now)) === rowId;

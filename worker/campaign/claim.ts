/**
 * The fan's side of prizes: the claim keyword's answer and the claim page (PRODUCT §3.2).
 */
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { PartIn } from '../db/values';
import { storedNotices } from './activity-notices';
import { FAN_SESSION_TTL_MS, type FanRow, fanLink } from './fan-access';
import { MAX_KEYWORD } from './join';
import { claimNothingYet, claimPrizes, claimsDone, notInActivity } from './prize-notices';
import type { PushContext } from './push-context';
import { signRowToken, verifyRowToken } from './signed-token';
import { claimsClosed, prizesOf, revealPrizes, type Winner } from './winners';

const PENDING = new Set<Winner['status']>(['won', 'claimed', 'held']);

/**
 * A fan sent a text: when it is the claim keyword of an activity on this account, the passive
 * reply lists their prizes in each such activity they are in, with the claim link; otherwise
 * undefined (the text may be something else's).
 */
export async function claimKeywordReply(ctx: PushContext): Promise<string | undefined> {
  const text = (ctx.msg.Content ?? '').trim();
  if (!text || text.length > MAX_KEYWORD) return undefined;
  const { db, config } = ctx.deps;
  const activities = await db
    .select({ id: schema.activity.id, name: schema.activity.name, notices: schema.activity.notices })
    .from(schema.posterSetting)
    .innerJoin(schema.activity, eq(schema.activity.id, schema.posterSetting.activityId))
    .innerJoin(schema.publicJoinActivity, eq(schema.publicJoinActivity.activityId, schema.activity.id))
    .where(and(eq(schema.posterSetting.claimKeyword, text), eq(schema.publicJoinActivity.accountId, ctx.account.id), isNull(schema.activity.deletedAt)));
  if (!activities.length) return undefined;
  const t = schema.takePartIn;
  const rows = await db
    .select({ id: t.id, activityId: t.activityId })
    .from(t)
    .where(
      and(
        inArray(
          t.activityId,
          activities.map((a) => a.id),
        ),
        eq(t.accountId, ctx.account.id),
        eq(t.openId, ctx.openId),
        eq(t.partIn, PartIn.participant),
      ),
    );
  if (!rows.length) return notInActivity().text;
  const answers = await Promise.all(
    rows.map(async (row) => {
      const activity = activities.find((a) => a.id === row.activityId)!;
      const prizes = (await prizesOf(db, activity.id, row.id)).filter((p) => p.status !== 'void');
      if (!prizes.length) return claimNothingYet(activity.name).text;
      const link = await fanLink(config, 'claim', row.id, ctx.now);
      const pending = prizes.filter((p) => PENDING.has(p.status)).map((p) => p.good);
      if (!pending.length)
        return claimsDone(
          activity.name,
          prizes.map((p) => p.good),
          link,
        ).text;
      return claimPrizes(activity.name, pending, link, storedNotices(activity.notices)).text;
    }),
  );
  return answers.join('\n\n');
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

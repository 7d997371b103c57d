/**
 * Every message about prizes and their review (防刷), one function each, in one place. Each names the notice scene it
 * belongs to (messaging/notices.ts) and the variables it fills, so it maps onto the notice model;
 * `text` is what the fan reads: the operator's wording of the scene where the activity has one,
 * else the product's.
 */
import { DEFAULT_NOTICE_TEXTS, type NoticeScene, type NoticeVars, renderNotice } from '../messaging/notices';
import type { StoredNotices } from './activity-notices';
import type { Tier } from './tiers';

/** A prize message: its scene, its variables, and its text. */
export interface PrizeNotice {
  scene: NoticeScene;
  vars: NoticeVars;
  text: string;
}

const LEVEL_NAMES = ['', '一', '二', '三'];

/** The activity's text of a scene (the operator's, or the default), filled in. */
const worded = (scene: NoticeScene, vars: NoticeVars, notices: StoredNotices = {}): PrizeNotice => ({
  scene,
  vars,
  text: renderNotice(notices[scene]?.text ?? DEFAULT_NOTICE_TEXTS[scene], vars),
});

/** A tier reached with a prize left for the owner, and where to claim it. */
export function tierWon(tier: Tier, claimUrl: string): PrizeNotice {
  const vars = { level: tier.level, number: tier.number, good: tier.good, claim_url: claimUrl };
  return {
    scene: 'tier_reached',
    vars,
    text: `恭喜你完成${LEVEL_NAMES[tier.level]}阶任务（${tier.number} 人助力），获得奖品【${tier.good}】！领取方式：${claimUrl}`,
  };
}

/** A tier reached after its prizes (stock or 兑换码) ran out. */
export function tierGone(tier: Tier): PrizeNotice {
  return {
    scene: 'tier_reached',
    vars: { level: tier.level, number: tier.number, good: tier.good },
    text: `恭喜你完成${LEVEL_NAMES[tier.level]}阶任务（${tier.number} 人助力）！很遗憾【${tier.good}】已经发完，感谢参与。`,
  };
}

/** The claim keyword's answer for one activity the fan won prizes in. */
export function claimPrizes(activity: string, goods: readonly string[], claimUrl: string, notices?: StoredNotices): PrizeNotice {
  return worded('claim', { activity, good: goods.join('、'), claim_url: claimUrl }, notices);
}

/** The claim keyword's answer for an activity the fan is in without a prize yet. */
export function claimNothingYet(activity: string): PrizeNotice {
  return { scene: 'claim', vars: { activity }, text: `你在【${activity}】还没有获得奖品，继续邀请好友助力吧！` };
}

/** A shipping prize went out with a courier. */
export function shipped(good: string, company: string, trackingNo: string, claimUrl: string, notices?: StoredNotices): PrizeNotice {
  return worded('shipped', { good, company, tracking_no: trackingNo, claim_url: claimUrl }, notices);
}

/** The claim keyword's answer for an activity whose prizes the fan has all received. */
export function claimsDone(activity: string, goods: readonly string[], claimUrl: string): PrizeNotice {
  return {
    scene: 'claim',
    vars: { activity, good: goods.join('、'), claim_url: claimUrl },
    text: `你在【${activity}】的奖品【${goods.join('、')}】已领取，查看详情：${claimUrl}`,
  };
}

/** The claim keyword from a fan who has joined none of the activities it belongs to. */
export function notInActivity(): PrizeNotice {
  return { scene: 'claim', vars: {}, text: '你还没有参与活动哦，回复活动关键词即可参与，邀请好友助力赢取奖品。' };
}

/** A poster flagged by the burst rule: its owner hears that new assists wait for a check (neutral words). */
export function reviewHeld(): PrizeNotice {
  return {
    scene: 'progress',
    vars: {},
    text: '你的海报近期助力增长较快，正在进行活动核验。核验期间新的助力暂不计入，核验通过后会按顺序补计，奖品也会在核验后发放。',
  };
}

/** The operator approved the poster: the held assists count. */
export function reviewApproved(counted: number, number: number): PrizeNotice {
  return { scene: 'progress', vars: { number }, text: `你的海报已通过活动核验，${counted} 位好友的助力已计入，当前 ${number} 人助力。` };
}

/** The operator voided the poster's held assists (neutral words: no accusation). */
export function reviewVoided(): PrizeNotice {
  return { scene: 'progress', vars: {}, text: '你的海报近期的部分助力未通过活动核验，没有计入助力数。如有疑问，请联系客服。' };
}

/** An assist that counts once the helper has stayed followed: the owner's note, with how many wait. */
export function assistWaiting(stayHours: number, waiting: number): PrizeNotice {
  return {
    scene: 'progress',
    vars: { number: waiting },
    text: `好友为你助力成功！好友保持关注满 ${stayHours} 小时后计入助力数，当前 ${waiting} 人待确认。`,
  };
}

/** The helper's passive reply when their assist waits for their stay period. */
export function helperWaiting(stayHours: number): PrizeNotice {
  return { scene: 'helper_thanks', vars: {}, text: `助力成功！保持关注满 ${stayHours} 小时后助力生效，感谢你的支持。` };
}

/**
 * Every message about prizes and their review (防刷), one function each, in one place. Notes for
 * the message queue carry a notice scene and its variables (the consumer words them with the
 * activity's texts and templates, messaging/wording.ts), or, where the words are the product's
 * own (a review's outcome, the stay period), the filled text. The claim keyword's answer is a
 * passive reply, worded here with the activity's `claim` text.
 */
import { type NoticeVars, renderNotice, type StoredNotices, sceneText } from '../messaging/notices';
import type { Note, Participant } from './counter/rules';
import { nextStep } from './notice-vars';
import { type Tier, tiersAhead } from './tiers';

/** A prize that ships went out with a courier: must reach the fan (customer service or the scene's template). */
export function shippedNote(good: string, company: string, trackingNo: string): Note {
  return { scene: 'shipped', vars: { good, company, tracking_no: trackingNo }, mustArrive: true, reserve: 0 };
}

/** A poster flagged by the burst rule: its owner hears that new assists wait for a check (neutral words). */
export function heldNote(): Note {
  return {
    scene: 'progress',
    vars: {},
    mustArrive: false,
    reserve: 0,
    text: '你的海报近期助力增长较快，正在进行活动核验。核验期间新的助力暂不计入，核验通过后会按顺序补计，奖品也会在核验后发放。',
  };
}

/** The operator approved the poster: the held assists count. */
export function approvedNote(tiers: readonly Tier[], counted: number, owner: Participant): Note {
  const next = nextStep(tiers, owner.number, owner.taskProgress);
  return {
    scene: 'progress',
    vars: { number: owner.number },
    mustArrive: true,
    reserve: 0,
    text: `你的海报已通过活动核验，${counted} 位好友的助力已计入，当前 ${owner.number} 位好友助力，${next}。`,
  };
}

/** The operator voided the poster's held assists (neutral words: no accusation). */
export function voidedNote(): Note {
  return { scene: 'progress', vars: {}, mustArrive: true, reserve: 0, text: '你的海报近期的部分助力未通过活动核验，没有计入助力数。如有疑问，请联系客服。' };
}

/** An assist that counts once the helper has stayed followed: the owner's note, with how many wait ("N 人待确认"); like progress, it keeps sends for the prizes ahead. */
export function waitingNote(tiers: readonly Tier[], owner: Participant, stayHours: number, waiting: number): Note {
  return {
    scene: 'progress',
    vars: { number: owner.number },
    mustArrive: false,
    reserve: tiersAhead(tiers, owner.taskProgress),
    text: `有好友为你助力！好友保持关注满 ${stayHours} 小时后计入助力数，当前 ${waiting} 人待确认。`,
  };
}

/** The helper's passive reply when their assist waits for their stay period: the usual thanks, and when it counts. */
export const helperWaitingReply = (thanks: string, stayHours: number) => `${thanks}（保持关注满 ${stayHours} 小时后助力生效）`;

/** The claim keyword's answer for one activity the fan won prizes in: the activity's `claim` text. */
export function claimLine(notices: StoredNotices, vars: NoticeVars): string {
  return renderNotice(sceneText(notices, 'claim'), vars);
}

/** The claim keyword's answer for an activity the fan is in without a prize yet. */
export const nothingToClaim = (activity: string) => `你在【${activity}】还没有获得奖品，继续邀请好友助力吧！`;

/** The claim keyword's answer for an activity whose prizes the fan has all received. */
export const allClaimed = (activity: string, goods: readonly string[], claimUrl: string) =>
  `你在【${activity}】的奖品【${goods.join('、')}】已领取，查看详情：${claimUrl}`;

import type { Activity, PosterLayout, PrizeKind } from '$lib/api/types';
import { toLocalInput } from '$lib/format';
import { defaultNotices, type NoticesValues, noticesOf } from '$lib/notices-form';
import { DEFAULT_LAYOUT } from '$poster-layout';

/** Award rows the form always offers (1–3 tiers; blank rows are left out). */
export const TIER_ROWS = 3;

/** The create/edit form's state, as strings where the HTML form has strings. */
export interface ActivityFormValues {
  name: string;
  start_time: string;
  end_time: string;
  protect_switch: '1' | '2';
  unsubscribe_deduct: boolean;
  publics: string[];
  awards: { number: string; good: string; stock: string; kind: PrizeKind }[];
  /** 领奖截止, a `datetime-local` value ('' for none). */
  claim_deadline: string;
  end_when_gone: boolean;
  /** 防刷 rules as typed ('' is off). */
  risk: { burst_count: string; burst_seconds: string; stay_hours: string };
  key_word: string;
  rule: string;
  background_img: string;
  background_url: string;
  layout: PosterLayout;
  notices: NoticesValues;
}

const text = (n: number | null) => (n === null ? '' : String(n));

export const cloneLayout = (l: PosterLayout): PosterLayout => JSON.parse(JSON.stringify(l));

function blankAwards() {
  return Array.from({ length: TIER_ROWS }, () => ({ number: '', good: '', stock: '', kind: 'onsite' as PrizeKind }));
}

/** A new activity: starts now, runs a week, protection on, deduct on unfollow. */
export function newActivityValues(now = Date.now()): ActivityFormValues {
  return {
    name: '',
    start_time: toLocalInput(new Date(now).toISOString()),
    end_time: toLocalInput(new Date(now + 7 * 86_400_000).toISOString()),
    protect_switch: '1',
    unsubscribe_deduct: true,
    publics: [],
    awards: blankAwards(),
    claim_deadline: '',
    end_when_gone: false,
    risk: { burst_count: '', burst_seconds: '', stay_hours: '' },
    key_word: '',
    rule: '',
    background_img: '',
    background_url: '',
    layout: cloneLayout(DEFAULT_LAYOUT),
    notices: defaultNotices(),
  };
}

export function activityValues(a: Activity): ActivityFormValues {
  const awards = blankAwards();
  for (const w of a.awards) {
    if (w.level >= 1 && w.level <= TIER_ROWS) {
      awards[w.level - 1] = { number: String(w.number), good: w.good, stock: w.stock == null ? '' : String(w.stock), kind: w.kind };
    }
  }
  return {
    name: a.name,
    start_time: toLocalInput(a.start_time),
    end_time: toLocalInput(a.end_time),
    protect_switch: a.protect_switch === 2 ? '2' : '1',
    unsubscribe_deduct: a.unsubscribe_deduct,
    publics: [...a.publics],
    awards,
    claim_deadline: toLocalInput(a.claim_deadline),
    end_when_gone: a.end_when_gone,
    risk: { burst_count: text(a.risk.burst_count), burst_seconds: text(a.risk.burst_seconds), stay_hours: text(a.risk.stay_hours) },
    key_word: a.poster.key_word,
    rule: a.poster.rule,
    background_img: a.poster.background_img,
    background_url: a.poster.background_url,
    layout: cloneLayout(a.poster.layout),
    notices: noticesOf(a.notices),
  };
}

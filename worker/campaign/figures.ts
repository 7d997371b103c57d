/**
 * An activity's four headline figures, defined once: what each counts and the words every page
 * labels it with (活动列表, 数据统计, 参与粉丝, the CSV export), and the words for a fan's progress.
 * Plain data without imports, so the admin shows the same words (`$figures`); the counting is in
 * figure-counts.ts.
 *
 * A fan's row in an activity is a participant (they sent the keyword), a helper (their follow
 * through a poster counted), or both (a helper who then asked for a poster too). 参与粉丝 lists
 * each row once, so for one activity it shows participants + helpers − those who are both.
 */
export const FIGURES = {
  participants: { label: '参与人数', unit: '人', meaning: '回复关键词、领取专属海报的粉丝' },
  helpers: { label: '助力好友', unit: '人', meaning: '扫海报新关注、助力被计入的好友，含之后取关的' },
  assists_gross: { label: '总助力', unit: '次', meaning: '计入过的助力，含取关后扣除的（每位助力好友一次）' },
  assists_net: { label: '有效助力', unit: '次', meaning: '仍然计入的助力：总助力减去取关扣除，即各参与者助力数之和' },
} as const;

export type FigureName = keyof typeof FIGURES;

/** The four figures of one activity (API names). */
export type ActivityFigures = Record<FigureName, number>;

/** 第一档… as the admin and the exports name the tiers. */
export const TIER_NAMES = ['一', '二', '三'] as const;

/** A fan's 任务进度 in words: "已达第二档" for 2, "未达成" for 0. */
export function progressLabel(progress: number): string {
  return progress > 0 ? `已达第${TIER_NAMES[progress - 1] ?? progress}档` : '未达成';
}

/** What the fans list and the export show for a fan WeChat never gave us a nickname for. */
export const NO_NICKNAME = '未获取昵称';
/** Why: WeChat gives a nickname and avatar only through web OAuth, i.e. to fans who open the poster link. */
export const NO_NICKNAME_WHY = '微信只在粉丝打开活动链接（网页授权）时提供昵称和头像；只扫码助力或扫推广码关注的好友没有打开过链接，所以只有 OpenID。';

/**
 * Notices: what the campaign tells a fan, by scene (PRODUCT §3.1). Each scene has a default
 * Chinese text; an operator may change it per activity, using variables written `{name}`. A text
 * naming a variable that does not exist is refused when it is saved, so a fan never reads a raw
 * `{placeholder}`.
 */

/** Every notice scene an activity can word (DESIGN.md's contract). */
export const NOTICE_SCENES = ['join_rules', 'progress', 'tier_reached', 'deducted', 'helper_thanks', 'ending_soon', 'ended', 'claim', 'shipped'] as const;
export type NoticeScene = (typeof NOTICE_SCENES)[number];

/** The variables a notice text or template field may use, with what each holds (shown in the admin). */
export const NOTICE_VARIABLES = {
  nickname: '粉丝昵称',
  friend: '助力好友的昵称',
  number: '已助力人数',
  remaining: '距下一档还差的人数',
  level: '达成的档位（1–3）',
  good: '奖品名称',
  next_good: '下一档奖品名称',
  rank: '排行榜名次',
  activity: '活动名称',
  rule: '活动规则',
  keyword: '活动关键词',
  end_time: '活动结束时间',
  claim_url: '领奖页链接',
  progress_url: '进度页链接',
  code: '兑换码或核销码',
  company: '快递公司',
  tracking_no: '快递单号',
} as const;
export type NoticeVariable = keyof typeof NOTICE_VARIABLES;
export type NoticeVars = Partial<Record<NoticeVariable, string | number>>;

/** The texts fans read unless the operator words a scene differently. */
export const DEFAULT_NOTICE_TEXTS: Record<NoticeScene, string> = {
  join_rules: '欢迎参加【{activity}】！\n{rule}\n活动截止：{end_time}',
  progress: '好友【{friend}】为你助力成功！已有 {number} 人助力，再邀请 {remaining} 人可得【{next_good}】。',
  tier_reached: '恭喜！已有 {number} 位好友为你助力，你获得第 {level} 档奖品【{good}】。领取方式：{claim_url}',
  deducted: '有好友取消关注，助力数减 1，当前 {number} 人助力。',
  helper_thanks: '你已为【{nickname}】助力成功！回复“{keyword}”也能生成你的专属海报，赢取【{good}】。',
  ending_soon: '【{activity}】将于 {end_time} 结束，你已有 {number} 人助力，再邀请 {remaining} 人可得【{next_good}】，抓紧哦！',
  ended: '【{activity}】已结束，感谢参与！你最终获得 {number} 人助力。',
  claim: '你的奖品【{good}】待领取，请点击：{claim_url}',
  shipped: '你的奖品【{good}】已发货：{company} {tracking_no}，请注意查收。',
};

const VARIABLE = /\{([^{}\s]*)\}/g;

/** The `{names}` a text uses that are not variables, in order of appearance, each once. */
export function unknownVariables(text: string): string[] {
  const unknown = [...text.matchAll(VARIABLE)].map((m) => m[1]).filter((name) => !(name in NOTICE_VARIABLES));
  return [...new Set(unknown)];
}

/** Fills a text's variables; a variable without a value becomes empty. */
export function renderNotice(text: string, vars: NoticeVars): string {
  return text.replace(VARIABLE, (whole, name: string) => (name in NOTICE_VARIABLES ? String(vars[name as NoticeVariable] ?? '') : whole));
}

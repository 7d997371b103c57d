/**
 * Notices: what the campaign tells a fan, by scene (PRODUCT §3.1). Each scene has a default
 * Chinese text; an operator may change it per activity, using variables written `{name}`, and may
 * bind a template message to it. A text naming a variable that does not exist is refused when it
 * is saved, so a fan never reads a raw `{placeholder}`. Pure: the admin's live preview uses this
 * module too.
 */

/** Every notice scene an activity can word (DESIGN.md's contract). */
export const NOTICE_SCENES = ['join_rules', 'progress', 'tier_reached', 'deducted', 'helper_thanks', 'ending_soon', 'ended', 'claim', 'shipped'] as const;
export type NoticeScene = (typeof NOTICE_SCENES)[number];

/** What the admin calls each scene. */
export const SCENE_LABELS: Record<NoticeScene, string> = {
  join_rules: '参与活动（规则与海报链接）',
  progress: '助力进度',
  tier_reached: '达成奖励档位',
  deducted: '好友取关扣助力',
  helper_thanks: '感谢助力好友',
  ending_soon: '活动即将结束',
  ended: '活动已结束',
  claim: '领奖提醒',
  shipped: '奖品已发货',
};

/**
 * Scenes that must reach the fan if any channel can: they may take a window's last sends, and
 * fall back to their template. The others give way (a plain note keeps the last sends for these).
 */
export const MUST_ARRIVE: ReadonlySet<NoticeScene> = new Set(['tier_reached', 'claim', 'shipped', 'ending_soon']);

/** The variables a notice text or template field may use, with what each holds (shown in the admin). */
export const NOTICE_VARIABLES = {
  nickname: '参与者（海报主人）的昵称',
  friend: '助力好友的昵称',
  number: '已助力人数',
  remaining: '距下一档还差的人数',
  level: '达成的档位（1–3）',
  tier: '达成的档位，如“第一档”',
  good: '奖品名称',
  next_good: '下一档奖品名称',
  next_tier: '下一档，如“第二档”',
  next_step: '下一步，如“再邀请 2 人可得第二档【保温杯】”，全部达成时为“你已完成全部任务”',
  result: '活动结果，如“获得第二档奖品【保温杯】”',
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
  progress: '有好友为你助力啦！已有 {number} 位好友助力，{next_step}。',
  tier_reached: '恭喜你达成{tier}，获得【{good}】！已有 {number} 位好友为你助力，{next_step}。领奖：{claim_url}',
  deducted: '有好友取消关注，助力数减 1，当前 {number} 位好友助力，{next_step}。',
  helper_thanks: '你已为【{nickname}】助力成功！回复“{keyword}”也能生成你的专属海报，赢取【{good}】。',
  ending_soon: '【{activity}】将于 {end_time} 结束，你已有 {number} 位好友助力，{next_step}，抓紧哦！查看进度：{progress_url}',
  ended: '【{activity}】已结束，感谢参与！你共获得 {number} 位好友助力，{result}。',
  claim: '你的奖品【{good}】待领取，请点击：{claim_url}',
  shipped: '你的奖品【{good}】已发货：{company} {tracking_no}，请注意查收。',
};

/**
 * A tier reached whose prize is gone. Not the operator's to word: their tier_reached text (and
 * template) announce a prize, which this fan does not get.
 */
export const SOLD_OUT_TEXT = '你已达成{tier}（{number} 位好友助力），可惜【{good}】已经发完了。{next_step}。';

/** Values the admin's preview fills in where the activity gives none. */
export const SAMPLE_VARS: Required<NoticeVars> = {
  nickname: '小明',
  friend: '小红',
  number: 5,
  remaining: 5,
  level: 1,
  tier: '第一档',
  good: '定制帆布袋',
  next_good: '保温杯',
  next_tier: '第二档',
  next_step: '再邀请 5 人可得第二档【保温杯】',
  result: '获得第一档奖品【定制帆布袋】',
  rank: 3,
  activity: '邀好友领好礼',
  rule: '邀请 3 位好友扫码关注即可领取帆布袋',
  keyword: '海报',
  end_time: '2026-11-30 20:00',
  claim_url: 'https://mtb.example.com/h5/claim?t=…',
  progress_url: 'https://mtb.example.com/h5/progress?t=…',
  code: 'A1B2C3',
  company: '顺丰速运',
  tracking_no: 'SF1234567890',
};

const VARIABLE = /\{([^{}\s]*)\}/g;

/** The `{names}` a text uses that are not variables, in order of appearance, each once. */
export function unknownVariables(text: string): string[] {
  const unknown = [...text.matchAll(VARIABLE)].map((m) => m[1]).filter((name) => !(name in NOTICE_VARIABLES));
  return [...new Set(unknown)];
}

/** Whether a text uses a variable (some cost a query or a signature, so they are filled only when used). */
export const usesVariable = (text: string, name: NoticeVariable) => text.includes(`{${name}}`);

/** Fills a text's variables; a variable without a value becomes empty. */
export function renderNotice(text: string, vars: NoticeVars): string {
  return text.replace(VARIABLE, (whole, name: string) => (name in NOTICE_VARIABLES ? String(vars[name as NoticeVariable] ?? '') : whole));
}

/** A scene's template binding: the template and its fields, each a text with variables. */
export interface TemplateBinding {
  template_id: string;
  data: Record<string, string>;
  url?: 'progress' | 'claim';
}

/** What an operator changed of one scene: its text, and a template to fall back on. */
export interface SceneSetting {
  text?: string;
  template?: TemplateBinding;
}

/** The notice settings an activity stores: only scenes the operator changed. */
export type StoredNotices = Partial<Record<NoticeScene, SceneSetting>>;

/** Reads the JSON column, keeping only known scenes. */
export function storedNotices(json: unknown): StoredNotices {
  const raw = (json && typeof json === 'object' ? json : {}) as Record<string, SceneSetting>;
  return Object.fromEntries(NOTICE_SCENES.filter((s) => raw[s]).map((s) => [s, raw[s]]));
}

/** The text fans read in a scene: the operator's, or the default. */
export const sceneText = (stored: StoredNotices, scene: NoticeScene) => stored[scene]?.text ?? DEFAULT_NOTICE_TEXTS[scene];

/** WeChat shows at most 20 characters of a `thing` field (47003 beyond): longer values are cut with an ellipsis. */
const THING_MAX = 20;

/** A template's fields filled in: `{ KEY: { value } }`, as `message/template/send` takes them. */
export function renderTemplateData(binding: TemplateBinding, vars: NoticeVars): Record<string, { value: string }> {
  return Object.fromEntries(
    Object.entries(binding.data).map(([key, text]) => {
      const value = renderNotice(text, vars);
      const chars = [...value];
      return [key, { value: key.startsWith('thing') && chars.length > THING_MAX ? `${chars.slice(0, THING_MAX - 1).join('')}…` : value }];
    }),
  );
}

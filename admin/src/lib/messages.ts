import { NOTICE_SCENES, SCENE_LABELS } from '$notices';

/** The message history's filters: each value the API takes, with the label the admin shows. */
export const CHANNEL_OPTIONS = [
  ['passive', '被动回复'],
  ['custom', '客服消息'],
  ['template', '模板消息'],
  ['none', '未送达'],
] as const;
export const STATUS_OPTIONS = [
  ['sent', '已发送'],
  ['delivered', '已送达'],
  ['blocked', '被拒收'],
  ['failed', '发送失败'],
  ['skipped', '未发送'],
  ['retrying', '等待重试'],
  ['sending', '发送中'],
] as const;
export const SCENE_OPTIONS = [...NOTICE_SCENES.map((s) => [s, SCENE_LABELS[s]] as const), ['poster', '海报图片'] as const];

export const valuesOf = <T extends string>(options: readonly (readonly [T, string])[]) => options.map(([v]) => v);

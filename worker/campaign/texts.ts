import { formatShanghai } from './time';

/** What fans read. One place, so wording stays consistent and later configurable. */
export const texts = {
  notStarted: (start: number, end: number) => `活动未开始，活动时间：${formatShanghai(start)} 至 ${formatShanghai(end)}，敬请期待。`,
  ended: (start: number, end: number) => `活动已结束（活动时间：${formatShanghai(start)} 至 ${formatShanghai(end)}），感谢关注。`,
  blacklisted: '抱歉，你暂时无法参与本活动。',
  linkTitle: '点击链接生成我的专属海报',
  linkDescription: '邀请好友扫码关注助力，即可领取奖励',
  assistThanks: '助力成功！感谢你的支持。回复活动关键词，也可以生成你的专属海报领奖品哦～',
  selfScan: '这是你自己的海报哦，快分享给好友扫码助力吧！',
  alreadyFollowing: '你已关注，本活动仅限新关注用户助力。',
  notNew: '你之前已关注过本公众号，本活动仅限新关注用户助力。',
  alreadyHelped: '你已经为好友助力过了，每人只能助力一次。',
  activityOver: '该活动已结束，感谢关注。',
  progress: (n: number, next: { remaining: number; good: string } | null) =>
    next ? `好友为你助力成功，已有 ${n} 人助力，再邀请 ${next.remaining} 人可得【${next.good}】` : `好友为你助力成功，已有 ${n} 人助力，你已完成全部任务！`,
  deducted: (n: number) => `有好友取消关注，助力数减 1，当前 ${n} 人助力。`,
  snapshot: '请在微信中打开此链接，授权后即可生成你的专属海报。',
  openInWeChat: '请在微信中打开此链接，查看你自己的活动进度与奖品。',
} as const;

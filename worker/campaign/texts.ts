import { formatShanghai } from '../lib/time';

/**
 * What fans read that is not the operator's to word: refusals and the answers' frames. The
 * notices an operator may word per activity are in messaging/notices.ts.
 */
export const texts = {
  notStarted: (start: number, end: number) => `活动未开始，活动时间：${formatShanghai(start)} 至 ${formatShanghai(end)}，敬请期待。`,
  ended: (start: number, end: number) => `活动已结束（活动时间：${formatShanghai(start)} 至 ${formatShanghai(end)}），感谢关注。`,
  blacklisted: '抱歉，你暂时无法参与本活动。',
  linkTitle: '点击链接生成我的专属海报',
  assistThanks: '助力成功！感谢你的支持。',
  selfScan: '这是你自己的海报哦，快分享给好友扫码助力吧！',
  alreadyFollowing: '你已关注，本活动仅限新关注用户助力。',
  notNew: '你之前已关注过本公众号，本活动仅限新关注用户助力。',
  alreadyHelped: '你已经为好友助力过了，每人只能助力一次。',
  activityOver: '该活动已结束，感谢关注。',
  /** A friend scanned a poster that cannot take assists now (its owner, or the friend, is barred): neutral, names nobody. */
  posterUnavailable: '这张海报暂时不能助力了，感谢你的关注。',
  snapshot: '请在微信中打开此链接，授权后即可生成你的专属海报。',
  openInWeChat: '请在微信中打开此链接，查看你自己的活动进度与奖品。',
  /** The progress keyword, from a fan in none of the activities that answer it. */
  notJoined: (activities: { name: string; keyword: string }[]) =>
    `你还没有参加活动。${activities.map((a) => `回复“${a.keyword}”参加【${a.name}】`).join('；')}。`,
  progressTitle: (activity: string) => `【${activity}】我的助力进度`,
  progressLine: (number: number, rank: number, next: string) => `已有 ${number} 位好友为你助力，排名第 ${rank}，${next}。`,
  progressLink: '查看进度和排行榜',
} as const;

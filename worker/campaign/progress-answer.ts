import { fanLink } from '../messaging/fan-links';
import type { Replied } from '../messaging/outbox';
import { fanRowsFor } from './keyword-fans';
import { progressOf } from './progress';
import type { KeywordActivity, PushAnswer, PushContext } from './push-context';
import { textReply } from './push-context';
import { texts } from './texts';

/**
 * The progress keyword (进度 by default), answered in the reply itself: for each activity the
 * fan takes part in among those using the keyword, their count, rank, what is next and the link
 * to their progress page. One activity gives a news card; several a text with a link each (WeChat
 * shows one article in the reply to a message). A fan in none is told how to join the running ones.
 */
export async function answerProgress(ctx: PushContext, activities: KeywordActivity[]): Promise<PushAnswer> {
  const { deps, account, openId, now } = ctx;
  const fan = await fanRowsFor(ctx, activities);
  if ('none' in fan) return fan.none;
  const { rows } = fan;
  const progress = await progressOf(deps.db, rows);
  const answers = await Promise.all(
    rows.map(async (row, i) => {
      const name = activities.find((a) => a.activity.id === row.activityId)!.activity.name;
      const p = progress[i];
      return { row, name, line: texts.progressLine(p.number, p.rank, p.nextStep), url: await fanLink(deps, 'progress', row.id, now) };
    }),
  );
  const recorded = (a: (typeof answers)[number], summary: string): Replied => ({
    kind: 'replied',
    key: `${ctx.dedupKey}:progress:${a.row.activityId}`,
    appid: account.authorizerAppid,
    openId,
    activityId: a.row.activityId!,
    scene: 'progress',
    summary,
    msgType: answers.length === 1 ? 'news' : 'text',
  });
  if (answers.length === 1) {
    const [a] = answers;
    const article = { title: texts.progressTitle(a.name), description: `${a.line}${texts.progressLink}`, url: a.url, picurl: '' };
    return { reply: { type: 'news', article }, items: [recorded(a, `${article.title}\n${a.line}`)] };
  }
  const lines = answers.map((a) => `【${a.name}】${a.line}<a href="${a.url}">${texts.progressLink}</a>`);
  return { reply: textReply(lines.join('\n\n')), items: answers.map((a) => recorded(a, `【${a.name}】${a.line}`)) };
}

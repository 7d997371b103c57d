import { recordTemplateReceipt } from '../messaging/receipts';
import { openServiceWindow } from '../messaging/service-window';
import { authorizedAccount } from '../platform/accounts';
import type { WeChatXml } from '../wechat/xml';
import { handleEvent } from './events';
import { answerKeyword } from './keywords';
import type { PushDeps, PushReply } from './push-context';

/**
 * Handles one verified, deduplicated push to an account's message URL: a text may be one of the
 * activities' keywords, an event may be a follow, a scan, an unfollow or a template message's
 * receipt. Pushes that are not the campaign's (other message types, unauthorized accounts) are
 * answered `success` (null).
 */
export async function handleFanPush(deps: PushDeps, push: { appid: string; msg: WeChatXml; dedupKey: string; now: number }): Promise<PushReply> {
  const { msg, now } = push;
  const openId = msg.FromUserName;
  if (!openId) return null;
  if (msg.MsgType === 'event' && msg.Event === 'TEMPLATESENDJOBFINISH') {
    await recordTemplateReceipt(deps.db, push.appid, msg);
    return null;
  }
  // A fan's message opens WeChat's 48 h window to them; a scan or menu click its minute's window
  // (a follow's is opened with the follow's other writes).
  const pushedAt = Math.min(Number(msg.CreateTime) * 1000 || now, now);
  const opening = { appid: push.appid, openId, at: pushedAt, eventKey: push.dedupKey };
  if (msg.MsgType !== 'event') await openServiceWindow(deps.db, 'message', opening);
  else if (msg.Event === 'SCAN' || msg.Event === 'CLICK') await openServiceWindow(deps.db, 'event', opening);
  const account = await authorizedAccount(deps.db, push.appid);
  if (!account) return null;
  const ctx = { deps, account, openId, msg, dedupKey: push.dedupKey, now, pushedAt };
  if (msg.MsgType === 'text') {
    const answer = await answerKeyword(ctx);
    if (answer) await deps.outbox.send(answer.items);
    return answer?.reply ?? null;
  }
  if (msg.MsgType === 'event') return handleEvent(ctx);
  return null;
}

import { openServiceWindow } from '../messaging/service-window';
import { authorizedAccount } from '../platform/accounts';
import type { WeChatXml } from '../wechat/xml';
import { claimKeywordReply } from './claim';
import { handleEvent } from './events';
import { joinByKeyword } from './join';
import type { PushDeps, PushReply } from './push-context';

/**
 * Handles one verified, deduplicated push to an account's message URL: a text may be an
 * activity's keyword, an event may be a follow, a scan or an unfollow. Pushes that are not the
 * campaign's (other message types, unauthorized accounts) are answered `success` (null).
 */
export async function handleFanPush(deps: PushDeps, push: { appid: string; msg: WeChatXml; dedupKey: string; now: number }): Promise<PushReply> {
  const { msg, now } = push;
  const openId = msg.FromUserName;
  if (!openId) return null;
  // Any message from a fan (not an event) opens WeChat's customer-service window to them.
  if (msg.MsgType !== 'event') await openServiceWindow(deps.db, push.appid, openId, Math.min(Number(msg.CreateTime) * 1000 || now, now));
  const account = await authorizedAccount(deps.db, push.appid);
  if (!account) return null;
  const ctx = { deps, account, openId, msg, dedupKey: push.dedupKey, now };
  if (msg.MsgType === 'text') {
    const claim = await claimKeywordReply(ctx);
    if (claim !== undefined) return claim;
    const result = await joinByKeyword(ctx);
    await deps.outbox.send(result.messages);
    return result.reply;
  }
  if (msg.MsgType === 'event') return handleEvent(ctx);
  return null;
}

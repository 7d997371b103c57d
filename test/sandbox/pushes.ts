import { WXBizMsgCrypt } from '../../worker/wechat/crypto';
import { buildXml } from '../../worker/wechat/xml';

/** Component credentials a push is sealed with. */
export interface PushKeys {
  token: string;
  aesKey: string;
  componentAppid: string;
}

export interface SealedPush {
  /** Query string WeChat appends to the URL (timestamp, nonce, signature, msg_signature, encrypt_type). */
  query: string;
  body: string;
}

let nonceCounter = 0;

/**
 * WeChat's MsgIds are unique 64-bit numbers, and the worker deduplicates texts by them: a random
 * one within a second collided when tests sent many keywords at once (accounts differ between
 * test files, so one sequence per isolate is enough).
 */
let msgSeq = 0;
const nextMsgId = () => String(Date.now() * 1000 + (msgSeq++ % 1000));

/** Seals an inner message exactly as WeChat does in safe mode. */
export async function sealPush(keys: PushKeys, toUserName: string, inner: string, now = Date.now()): Promise<SealedPush> {
  const box = new WXBizMsgCrypt({ token: keys.token, encodingAesKey: keys.aesKey, appid: keys.componentAppid });
  const timestamp = String(Math.floor(now / 1000));
  const nonce = String(100000 + (nonceCounter++ % 900000));
  const encrypted = await box.encrypt(inner);
  const q = new URLSearchParams({
    signature: await box.signatureOf(timestamp, nonce),
    timestamp,
    nonce,
    encrypt_type: 'aes',
    msg_signature: await box.msgSignature(timestamp, nonce, encrypted),
  });
  return { query: q.toString(), body: buildXml({ ToUserName: toUserName, Encrypt: encrypted }) };
}

/** The inner XML of a fan's event or text, shaped like the seed's samples. */
export function fanMessage(m: {
  ghId: string;
  openId: string;
  createTime: number;
  type: 'text' | 'subscribe' | 'SCAN' | 'unsubscribe';
  content?: string;
  scene?: string;
  msgId?: string;
}): string {
  const base = { ToUserName: m.ghId, FromUserName: m.openId, CreateTime: m.createTime };
  if (m.type === 'text') return buildXml({ ...base, MsgType: 'text', Content: m.content ?? '', MsgId: m.msgId ?? nextMsgId() });
  const eventKey = m.type === 'subscribe' ? (m.scene ? `qrscene_${m.scene}` : '') : m.type === 'SCAN' ? (m.scene ?? '') : '';
  return buildXml({
    ...base,
    MsgType: 'event',
    Event: m.type,
    EventKey: eventKey,
    ...(m.scene ? { Ticket: `sandbox-ticket-${m.scene}` } : {}),
  });
}

/** The inner XML of a push to the authorization-event URL. */
export function componentMessage(componentAppid: string, infoType: string, fields: Record<string, string>, createTime = Math.floor(Date.now() / 1000)): string {
  return buildXml({ AppId: componentAppid, CreateTime: createTime, InfoType: infoType, ...fields });
}

/** The inner XML of a template message's receipt (TEMPLATESENDJOBFINISH), as WeChat pushes it to the account's message URL. */
export function templateReceipt(m: { ghId: string; openId: string; msgid: string; status: string; createTime?: number }): string {
  return buildXml({
    ToUserName: m.ghId,
    FromUserName: m.openId,
    CreateTime: m.createTime ?? Math.floor(Date.now() / 1000),
    MsgType: 'event',
    Event: 'TEMPLATESENDJOBFINISH',
    MsgID: m.msgid,
    Status: m.status,
  });
}

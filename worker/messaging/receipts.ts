import type { Db } from '../db/client';

/** What WeChat's receipt `Status` says, as message_log records it. */
const RECEIPT_STATUS: Record<string, 'delivered' | 'blocked'> = { success: 'delivered', 'failed:user block': 'blocked' };
const DETAIL = { delivered: '已送达（微信回执 success）', blocked: '粉丝拒收了公众号的模板消息（微信回执 failed:user block）' } as const;
const MSGID = /^\d{1,24}$/;

const KEEP = `INSERT INTO template_receipt (appid, msgid, status, detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING`;
// A delivered message keeps its note of why it went by template; a refusal says what WeChat answered.
const APPLY = `UPDATE message_log SET status = ?3, errmsg = CASE WHEN ?3 = 'delivered' THEN errmsg ELSE ?4 END, updated_at = ?5
  WHERE appid = ?1 AND msgid = ?2 AND channel = 'template'`;

/**
 * A TEMPLATESENDJOBFINISH push: the template message it names was delivered, refused by the fan
 * (blocked), or failed. Recorded on the message's log row, and kept for a moment in case the
 * receipt overtook the consumer's record of the send (the consumer applies it then). A push
 * naming no message of ours, or saying something unknown, changes nothing but the kept receipt.
 */
export async function recordTemplateReceipt(db: Db, appid: string, msg: { MsgID?: string; Status?: string }, now = Date.now()): Promise<void> {
  const msgid = msg.MsgID ?? '';
  const said = (msg.Status ?? '').trim();
  if (!MSGID.test(msgid) || !said || said.length > 64) return;
  const known = RECEIPT_STATUS[said];
  const status = known ?? 'failed';
  const detail = known ? DETAIL[known] : `未送达（微信回执 ${said}）`;
  const d1 = db.$client;
  await d1.batch([d1.prepare(KEEP).bind(appid, msgid, status, detail, now), d1.prepare(APPLY).bind(appid, msgid, status, detail, now)]);
}

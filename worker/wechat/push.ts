import { readBodyAtMost } from '../lib/body';
import { fromUtf8 } from '../lib/bytes';
import { WeChatCryptoError, type WXBizMsgCrypt } from './crypto';
import { buildXml, MAX_PUSH_BYTES, parseWeChatXml, type WeChatXml, XmlError } from './xml';

/** Pushes signed further from now than this are refused as stale or replayed. */
export const MAX_CLOCK_SKEW_S = 300;

export interface PushQuery {
  timestamp?: string;
  nonce?: string;
  signature?: string;
  msg_signature?: string;
}

/** Reads a push body of at most `max` bytes (readBodyAtMost); a larger one is refused. */
export async function readCappedText(req: Request, max = MAX_PUSH_BYTES): Promise<string> {
  const bytes = await readBodyAtMost(req, max);
  if (!bytes) throw new XmlError('body too large');
  return decodeUtf8(bytes);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return fromUtf8(bytes);
  } catch {
    throw new XmlError('body is not UTF-8');
  }
}

function checkFreshness(timestamp: string | undefined, now: number) {
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) throw new WeChatCryptoError('missing timestamp');
  if (Math.abs(now / 1000 - Number(timestamp)) > MAX_CLOCK_SKEW_S) throw new WeChatCryptoError('stale timestamp');
}

/**
 * Verifies and opens a push. A third-party platform always pushes in safe mode (WECHAT.md), and
 * plain mode's `signature` covers only the URL's timestamp and nonce, not the body: a plaintext
 * body would let anyone who saw one push URL post anything with its query. So only an `Encrypt`
 * body under a matching `msg_signature` is opened. Throws WeChatCryptoError / XmlError; the
 * route answers those with 401 / 400.
 */
export async function openPush(crypto: WXBizMsgCrypt, q: PushQuery, body: string, now = Date.now()): Promise<WeChatXml> {
  checkFreshness(q.timestamp, now);
  const outer = parseWeChatXml(body);
  if (!outer.Encrypt || !q.msg_signature) throw new WeChatCryptoError('not in safe mode: missing Encrypt or msg_signature');
  if (!(await crypto.verifyMsgSignature(q.msg_signature, q.timestamp!, q.nonce ?? '', outer.Encrypt))) {
    throw new WeChatCryptoError('msg_signature mismatch');
  }
  return parseWeChatXml(await crypto.decrypt(outer.Encrypt));
}

/** The URL check: `echostr` back (plain) or its decryption (safe mode) when the signature holds. */
export async function answerUrlCheck(crypto: WXBizMsgCrypt, q: PushQuery & { echostr?: string }): Promise<string> {
  if (!q.echostr || !q.timestamp) throw new WeChatCryptoError('missing echostr');
  const nonce = q.nonce ?? '';
  if (q.msg_signature) {
    if (!(await crypto.verifyMsgSignature(q.msg_signature, q.timestamp, nonce, q.echostr))) throw new WeChatCryptoError('msg_signature mismatch');
    return crypto.decrypt(q.echostr);
  }
  if (!q.signature || !(await crypto.verifySignature(q.signature, q.timestamp, nonce))) throw new WeChatCryptoError('signature mismatch');
  return q.echostr;
}

/** Wraps a passive reply as `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`. */
export async function sealReply(box: WXBizMsgCrypt, reply: string, now = Date.now()): Promise<string> {
  const encrypted = await box.encrypt(reply);
  const timestamp = String(Math.floor(now / 1000));
  const nonce = String(crypto.getRandomValues(new Uint32Array(1))[0]);
  return buildXml({ Encrypt: encrypted, MsgSignature: await box.msgSignature(timestamp, nonce, encrypted), TimeStamp: timestamp, Nonce: nonce });
}

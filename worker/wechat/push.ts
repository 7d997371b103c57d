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

/** Reads at most `max` bytes of a body; a larger body is refused before it is buffered whole. */
export async function readCappedText(req: Request, max = MAX_PUSH_BYTES): Promise<string> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > max) throw new XmlError('body too large');
  if (!req.body) return '';
  // A declared length frames the body (the runtime never reads past it): read it in one go.
  if (req.headers.has('content-length')) return decodeUtf8(new Uint8Array(await req.arrayBuffer()));
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw new XmlError('body too large');
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return decodeUtf8(all);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
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

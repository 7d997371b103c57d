import { readCapped } from '../lib/bytes';
import { WeChatCryptoError, type WXBizMsgCrypt } from './crypto';
import { buildXml, MAX_PUSH_BYTES, parseWeChatXml, type WeChatXml, XmlError } from './xml';

/** Pushes signed further from now than this are refused as stale or replayed. */
export const MAX_CLOCK_SKEW_S = 300;

export interface PushQuery {
  timestamp?: string;
  nonce?: string;
  signature?: string;
  msg_signature?: string;
  encrypt_type?: string;
}

export interface OpenedPush {
  msg: WeChatXml;
  /** Whether the push came encrypted, and so the passive reply must be too. */
  encrypted: boolean;
}

/** Reads at most `max` bytes of a body; a larger body is refused before it is buffered whole. */
export async function readCappedText(req: Request, max = MAX_PUSH_BYTES): Promise<string> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > max) throw new XmlError('body too large');
  if (!req.body) return '';
  // A declared length frames the body (the runtime never reads past it): read it in one go.
  if (req.headers.has('content-length')) return decodeUtf8(new Uint8Array(await req.arrayBuffer()));
  const bytes = await readCapped(req.body, max);
  if (!bytes) throw new XmlError('body too large');
  return decodeUtf8(bytes);
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
 * Verifies and opens a push: safe mode (msg_signature over Encrypt, then decrypt) or plain mode
 * (signature). Throws WeChatCryptoError / XmlError; the route answers those with 401 / 400.
 */
export async function openPush(crypto: WXBizMsgCrypt, q: PushQuery, body: string, now = Date.now()): Promise<OpenedPush> {
  checkFreshness(q.timestamp, now);
  const nonce = q.nonce ?? '';
  const outer = parseWeChatXml(body);
  if (q.encrypt_type === 'aes' || outer.Encrypt !== undefined) {
    if (!outer.Encrypt || !q.msg_signature) throw new WeChatCryptoError('missing Encrypt or msg_signature');
    if (!(await crypto.verifyMsgSignature(q.msg_signature, q.timestamp!, nonce, outer.Encrypt))) {
      throw new WeChatCryptoError('msg_signature mismatch');
    }
    return { msg: parseWeChatXml(await crypto.decrypt(outer.Encrypt)), encrypted: true };
  }
  if (!q.signature || !(await crypto.verifySignature(q.signature, q.timestamp!, nonce))) {
    throw new WeChatCryptoError('signature mismatch');
  }
  return { msg: outer, encrypted: false };
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

import { concat, fromBase64, fromUtf8, sha1Hex, timingSafeEqual, toBase64, utf8 } from '../lib/bytes';

/** WeChat pads to 32-byte blocks (PKCS#7 with pad bytes 1..32), not AES's 16. */
const BLOCK = 32;

/** A push that failed verification or decryption; the caller answers 401 and changes nothing. */
export class WeChatCryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeChatCryptoError';
  }
}

/** `sha1(sort(parts).join(''))`: `signature` (token, timestamp, nonce) and `msg_signature` (+ Encrypt). */
export function signature(...parts: string[]): Promise<string> {
  return sha1Hex([...parts].sort().join(''));
}

export interface CryptoConfig {
  token: string;
  /** The 43-character EncodingAESKey. */
  encodingAesKey: string;
  /** The component appid, which must end every plaintext. */
  appid: string;
}

/**
 * WXBizMsgCrypt over WebCrypto. WebCrypto's AES-CBC always applies 16-byte PKCS#7 itself, so
 * encrypt drops the extra block it appends, and decrypt appends a valid padding block first.
 */
export class WXBizMsgCrypt {
  private readonly key: Promise<CryptoKey>;
  private readonly iv: Uint8Array;

  constructor(private readonly config: CryptoConfig) {
    if (!/^[A-Za-z0-9+/]{43}$/.test(config.encodingAesKey)) {
      throw new Error('EncodingAESKey must be 43 base64 characters');
    }
    const raw = fromBase64(`${config.encodingAesKey}=`);
    this.iv = raw.slice(0, 16);
    this.key = crypto.subtle.importKey('raw', raw, { name: 'AES-CBC' }, false, ['encrypt', 'decrypt']);
  }

  /** Plain-mode `signature` of a timestamp and nonce. */
  signatureOf(timestamp: string, nonce: string): Promise<string> {
    return signature(this.config.token, timestamp, nonce);
  }

  /** Checks a plain-mode `signature` in constant time. */
  async verifySignature(sig: string, timestamp: string, nonce: string): Promise<boolean> {
    return timingSafeEqual(await this.signatureOf(timestamp, nonce), sig);
  }

  /** `msg_signature` of a ciphertext, as WeChat computes it. */
  msgSignature(timestamp: string, nonce: string, encrypted: string): Promise<string> {
    return signature(this.config.token, timestamp, nonce, encrypted);
  }

  /** Checks `msg_signature` over the ciphertext in constant time. */
  async verifyMsgSignature(sig: string, timestamp: string, nonce: string, encrypted: string): Promise<boolean> {
    return timingSafeEqual(await this.msgSignature(timestamp, nonce, encrypted), sig);
  }

  /** Encrypts `message` into WeChat's base64 `Encrypt` value. `random` is for tests only. */
  async encrypt(message: string, random: Uint8Array = crypto.getRandomValues(new Uint8Array(16))): Promise<string> {
    const msg = utf8(message);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, msg.length, false);
    const body = concat(random, len, msg, utf8(this.config.appid));
    const pad = BLOCK - (body.length % BLOCK);
    const padded = concat(body, new Uint8Array(pad).fill(pad));
    const out = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CBC', iv: this.iv }, await this.key, padded));
    return toBase64(out.subarray(0, padded.length));
  }

  /** Decrypts an `Encrypt` value and returns the message, checking padding, length and appid. */
  async decrypt(encrypted: string): Promise<string> {
    let cipher: Uint8Array;
    try {
      cipher = fromBase64(encrypted);
    } catch {
      throw new WeChatCryptoError('Encrypt is not base64');
    }
    if (cipher.length === 0 || cipher.length % BLOCK !== 0) throw new WeChatCryptoError('bad ciphertext length');
    const key = await this.key;
    // E(lastBlock XOR 0x10…) is the block a 16-byte PKCS#7 pad would encrypt to after `cipher`.
    const lastBlock = cipher.subarray(cipher.length - 16);
    const padBlock = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CBC', iv: lastBlock }, key, new Uint8Array(0)));
    let plain: Uint8Array;
    try {
      plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-CBC', iv: this.iv }, key, concat(cipher, padBlock)));
    } catch {
      throw new WeChatCryptoError('decryption failed');
    }
    const pad = plain[plain.length - 1];
    if (pad < 1 || pad > BLOCK) throw new WeChatCryptoError('bad padding');
    let bad = 0;
    for (let i = plain.length - pad; i < plain.length; i++) bad |= plain[i] ^ pad;
    if (bad) throw new WeChatCryptoError('bad padding');
    const body = plain.subarray(16, plain.length - pad);
    if (body.length < 4) throw new WeChatCryptoError('plaintext too short');
    const msgLen = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, false);
    if (msgLen > body.length - 4) throw new WeChatCryptoError('bad message length');
    let message: string;
    let appid: string;
    try {
      message = fromUtf8(body.subarray(4, 4 + msgLen));
      appid = fromUtf8(body.subarray(4 + msgLen));
    } catch {
      throw new WeChatCryptoError('plaintext is not UTF-8');
    }
    if (!timingSafeEqual(appid, this.config.appid)) throw new WeChatCryptoError('appid mismatch');
    return message;
  }
}

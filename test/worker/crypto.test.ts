import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signature, WeChatCryptoError, WXBizMsgCrypt } from '../../worker/wechat/crypto';
import { buildXml, parseWeChatXml, XmlError } from '../../worker/wechat/xml';

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const APPID = 'wx0000000000component';
const box = new WXBizMsgCrypt({ token: 'sandboxtoken', encodingAesKey: AES_KEY, appid: APPID });
const key = Buffer.from(`${AES_KEY}=`, 'base64');

/** An independent WXBizMsgCrypt (node:crypto, manual 32-byte PKCS#7) to cross-check against. */
function referenceEncrypt(msg: string, random: Buffer, appid = APPID): string {
  const body = Buffer.from(msg, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  const plain = Buffer.concat([random, len, body, Buffer.from(appid)]);
  const pad = 32 - (plain.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}

function referenceDecrypt(b64: string): { msg: string; appid: string; pad: number } {
  const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  const plain = Buffer.concat([d.update(Buffer.from(b64, 'base64')), d.final()]);
  const pad = plain[plain.length - 1];
  const body = plain.subarray(16, plain.length - pad);
  const n = body.readUInt32BE(0);
  return { msg: body.subarray(4, 4 + n).toString('utf8'), appid: body.subarray(4 + n).toString(), pad };
}

describe('WXBizMsgCrypt', () => {
  it('round-trips every padding length 1..32, matching an independent implementation', async () => {
    const pads = new Set<number>();
    // 16 random + 4 length + appid (21) + message: message lengths 0..31 cover every pad 1..32.
    for (let n = 0; n < 32; n++) {
      const msg = 'x'.repeat(n);
      const random = Buffer.alloc(16, n);
      const ours = await box.encrypt(msg, random);
      expect(ours).toBe(referenceEncrypt(msg, random));
      const ref = referenceDecrypt(ours);
      pads.add(ref.pad);
      expect(ref.msg).toBe(msg);
      expect(await box.decrypt(referenceEncrypt(msg, random))).toBe(msg);
    }
    expect([...pads].sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
  });

  it('handles multi-byte UTF-8 (Chinese and emoji) at every padding length', async () => {
    for (let n = 0; n < 32; n++) {
      const msg = `<xml><Content><![CDATA[助力🎉${'好'.repeat(n)}]]></Content></xml>`;
      const random = Buffer.alloc(16, 7);
      expect(await box.decrypt(referenceEncrypt(msg, random))).toBe(msg);
      expect(referenceDecrypt(await box.encrypt(msg)).msg).toBe(msg);
    }
  });

  it('decrypts a known ciphertext built by hand', async () => {
    const known = referenceEncrypt('<xml><Event>subscribe</Event></xml>', Buffer.from('0123456789abcdef'));
    expect(await box.decrypt(known)).toBe('<xml><Event>subscribe</Event></xml>');
    expect(await box.encrypt('<xml><Event>subscribe</Event></xml>', Buffer.from('0123456789abcdef'))).toBe(known);
  });

  it('rejects a wrong appid inside the ciphertext', async () => {
    await expect(box.decrypt(referenceEncrypt('hi', Buffer.alloc(16), 'wxsomebodyelse'))).rejects.toThrow(/appid/);
  });

  it('rejects tampered, truncated and non-base64 ciphertexts', async () => {
    const good = Buffer.from(referenceEncrypt('hello', Buffer.alloc(16)), 'base64');
    const flipped = Buffer.from(good);
    flipped[flipped.length - 1] ^= 0xff;
    await expect(box.decrypt(flipped.toString('base64'))).rejects.toBeInstanceOf(WeChatCryptoError);
    await expect(box.decrypt(good.subarray(0, 40).toString('base64'))).rejects.toBeInstanceOf(WeChatCryptoError);
    await expect(box.decrypt('%%%not base64%%%')).rejects.toBeInstanceOf(WeChatCryptoError);
    await expect(box.decrypt('')).rejects.toBeInstanceOf(WeChatCryptoError);
  });

  it('computes signatures as sha1 of the sorted parts and verifies them', async () => {
    const expected = createHash('sha1').update(['sandboxtoken', '1700000000', 'nonce', 'ENC'].sort().join('')).digest('hex');
    expect(await signature('sandboxtoken', '1700000000', 'nonce', 'ENC')).toBe(expected);
    expect(await box.verifyMsgSignature(expected, '1700000000', 'nonce', 'ENC')).toBe(true);
    expect(await box.verifyMsgSignature(expected, '1700000001', 'nonce', 'ENC')).toBe(false);
    expect(await box.verifyMsgSignature(expected.replace(/.$/, '0'), '1700000000', 'nonce', 'ENC')).toBe(false);
    expect(await box.verifySignature('', '1700000000', 'nonce')).toBe(false);
  });
});

describe('WeChat XML', () => {
  it('parses the seed samples into strings (CDATA and numbers alike)', () => {
    const msg = parseWeChatXml(`<xml><ToUserName><![CDATA[gh_0f3fe2860e8f]]></ToUserName>
      <FromUserName><![CDATA[oXEWb6Q-9-IbljWfq32a9RL8t3Sc]]></FromUserName><CreateTime>1648828935</CreateTime>
      <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_1_1]]></EventKey></xml>`);
    expect(msg).toMatchObject({ ToUserName: 'gh_0f3fe2860e8f', CreateTime: '1648828935', Event: 'subscribe', EventKey: 'qrscene_1_1' });
  });

  it('refuses entities, DOCTYPE, non-XML and oversize bodies', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><xml><a>&lol2;</a></xml>';
    expect(() => parseWeChatXml(bomb)).toThrow(XmlError);
    expect(() => parseWeChatXml('{"json": true}')).toThrow(XmlError);
    expect(() => parseWeChatXml('<xml><a>unclosed</xml>')).toThrow(XmlError);
    expect(() => parseWeChatXml('<notxml><a>1</a></notxml>')).toThrow(XmlError);
    expect(() => parseWeChatXml(`<xml><a>${'x'.repeat(70_000)}</a></xml>`)).toThrow(XmlError);
  });

  it('builds CDATA that cannot be broken out of', () => {
    const xml = buildXml({ Content: 'a]]><evil/>b', CreateTime: 1 });
    expect(parseWeChatXml(xml)).toEqual({ Content: 'a]]><evil/>b', CreateTime: '1' });
  });
});

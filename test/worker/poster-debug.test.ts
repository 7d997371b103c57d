import { it } from 'vitest';
import bg from '../fixtures/poster-background.jpg?inline';
import { renderPoster } from '../../worker/poster/render';
const bytes = Uint8Array.from(atob(bg.split(',')[1]), (c) => c.charCodeAt(0));
it('x', async () => {
  const input = { background: bytes, avatar: null, nickname: '张三🎉小明😀 Hello 123 很长很长的昵称需要被截断才行啊啊啊', rule: '邀请 3 位好友扫码关注，即可免费领取精美礼品一份🎁，先到先得！', qrContent: 'http://weixin.qq.com/q/02AbCdEfGhIjKlMnOpQrStUvWxYz' };
  for (let i = 0; i < 3; i++) { const t = performance.now(); const r = await renderPoster(input); console.log('jpeg ms', performance.now() - t, r.bytes.byteLength); }
  const png = await renderPoster({ ...input, format: 'png' });
  let s = ''; for (let i = 0; i < png.bytes.length; i += 0x8000) s += String.fromCharCode(...png.bytes.subarray(i, i + 0x8000));
  console.log('PNGB64:' + btoa(s));
});

/** `GET /api/promos/{id}/qr`: a channel's QR code to print. (Promo follows and statistics: assist.test.ts.) */
import { env } from 'cloudflare:workers';
import jsQR from 'jsqr';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../../../worker/poster/png-decoder';
import { api, pushTicket } from '../helpers';
import { setupActivity } from '../task-helpers';

beforeAll(async () => {
  await pushTicket();
});

/** The PNG's size and resolution (IHDR and pHYs), and its pixels. */
async function readPng(png: Uint8Array) {
  const view = new DataView(png.buffer, png.byteOffset);
  const [width, height] = [view.getUint32(16), view.getUint32(20)];
  const phys = new TextDecoder().decode(png).indexOf('pHYs');
  const dpi = phys < 0 ? null : Math.round(view.getUint32(phys + 4) * 0.0254);
  const pixels = await decodePng(png);
  return { width, height, dpi, pixels };
}

describe('happy', () => {
  it('offers print sizes: the QR at its size and resolution, the channel name under it', async () => {
    const s = await setupActivity();
    const promo = await (await api(s.op, '/promos', { method: 'POST', json: { name: '门店前台立牌', account: s.account.appid } })).json<any>();
    const { qr_url: content } = (await env.DB.prepare('SELECT qr_url FROM promo WHERE id = ?').bind(promo.id).first<{ qr_url: string }>())!;

    const res = await api(s.op, `/promos/${promo.id}/qr?size=12`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toContain(`filename*=UTF-8''${encodeURIComponent('推广码-门店前台立牌-12cm.png')}`);
    const png = await readPng(new Uint8Array(await res.arrayBuffer()));
    // 12 cm at 300 dpi, with a band for the name below the square.
    expect([png.width, png.dpi]).toEqual([1417, 300]);
    expect(png.height).toBeGreaterThan(png.width);
    const { pixels, width, height } = png.pixels;
    expect(jsQR(new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, pixels.byteLength), width, height)?.data).toBe(content);
    // The name is ink in the band under the QR, centred.
    let [left, right] = [width, 0];
    for (let y = width; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (pixels[(y * width + x) * 4] > 128) continue;
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
    expect(right).toBeGreaterThan(left);
    expect(Math.abs(left - (width - 1 - right))).toBeLessThanOrEqual(4);

    const large = await readPng(new Uint8Array(await (await api(s.op, `/promos/${promo.id}/qr?size=20`)).arrayBuffer()));
    expect(large.width).toBeGreaterThan(png.width);
    expect(large.dpi).toBeGreaterThanOrEqual(200);
  });
});

describe('error', () => {
  it('refuses a size it does not offer', async () => {
    const s = await setupActivity();
    const promo = await (await api(s.op, '/promos', { method: 'POST', json: { name: '渠道', account: s.account.appid } })).json<any>();
    expect((await api(s.op, `/promos/${promo.id}/qr?size=13`)).status).toBe(422);
  });
});

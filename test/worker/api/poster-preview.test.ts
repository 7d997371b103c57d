/** `POST /api/posters/preview`: the admin's live preview, drawn by the real renderer. */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeJpeg } from '../../../worker/poster/jpeg-decoder';
import { encodePng } from '../../../worker/poster/png';
import { renderQrPng } from '../../../worker/poster/render';
import { api, pushTicket, register } from '../helpers';
import { setupActivity, uploadBackground } from '../task-helpers';

beforeAll(async () => {
  await pushTicket();
});

describe('happy', () => {
  it('renders the live preview with the real renderer', async () => {
    const op = await register();
    const key = await uploadBackground(op);
    const res = await api(op, '/posters/preview', { method: 'POST', json: { background_img: key, rule: '规则', layout: { qr: { x: 10, y: 10, size: 200 } } } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(new Uint8Array(await res.arrayBuffer()).subarray(0, 3)).toEqual(new Uint8Array([0xff, 0xd8, 0xff]));
  });

  it('says how the rule was set: at its size, shrunk to fit, or cut; an activity whose rule is cut is warned about', async () => {
    const op = await register();
    const key = await uploadBackground(op);
    const rule = '邀请好友扫码关注本公众号即可领取奖品🎁，邀请越多奖品越好，先到先得，送完即止。'.repeat(3);
    const setAs = async (height: number) => {
      const res = await api(op, '/posters/preview', { method: 'POST', json: { background_img: key, rule, layout: { rule: { height } } } });
      expect(res.status).toBe(200);
      return [Number(res.headers.get('x-rule-font-size')), res.headers.get('x-rule-fits')] as const;
    };
    expect(await setAs(400)).toEqual([26, 'true']);
    const [shrunk, fits] = await setAs(200);
    expect([shrunk < 26, fits]).toEqual([true, 'true']);
    expect(await setAs(40)).toEqual([16, 'false']);

    const s = await setupActivity();
    expect(s.activity.warnings).toEqual([]);
    const edited = await api(s.op, `/activities/${s.activity.id}`, { method: 'PATCH', json: { poster: { rule, layout: { rule: { height: 40 } } } } });
    expect((await edited.json<any>()).warnings).toEqual(['海报上的活动规则放不下，超出部分会以“…”省略：请加大规则框或精简规则']);
  });

  it('previews each poster on its own background while more backgrounds than the cache holds take turns, one by one and at once', async () => {
    const op = await register();
    const colours = [
      [220, 30, 30],
      [30, 200, 30],
      [30, 30, 220],
    ];
    const keys: string[] = [];
    for (const [r, g, b] of colours) {
      const pixels = new Uint8Array(750 * 1334 * 4);
      for (let i = 0; i < pixels.length; i += 4) pixels.set([r, g, b, 255], i);
      keys.push(await uploadBackground(op, encodePng({ pixels, width: 750, height: 1334 }), 'image/png'));
    }
    // The middle of the poster, where the default layout draws nothing.
    const centre = async (key: string) => {
      const res = await api(op, '/posters/preview', { method: 'POST', json: { background_img: key } });
      expect(res.status).toBe(200);
      const { pixels } = decodeJpeg(new Uint8Array(await res.arrayBuffer()));
      return Array.from(pixels.subarray((600 * 750 + 375) * 4, (600 * 750 + 375) * 4 + 3));
    };
    const near = (got: number[], want: number[]) => got.every((v, i) => Math.abs(v - want[i]) <= 8);
    const order = [0, 1, 2, 0, 2, 1, 1, 0, 2];
    for (const i of order) expect(near(await centre(keys[i]), colours[i])).toBe(true);
    const together = await Promise.all(order.map((i) => centre(keys[i])));
    for (const [n, got] of together.entries()) expect(near(got, colours[order[n]])).toBe(true);
  });
});

describe('error', () => {
  it('renders uploads whose pixels are missing or truncated, and stores their pixels then', async () => {
    const op = await register();
    const missing = await uploadBackground(op);
    await env.UPLOADS.delete(`${missing}.rgba`);
    const truncated = await uploadBackground(op, (await renderQrPng('background', 430)).bytes, 'image/png');
    await env.UPLOADS.put(`${truncated}.rgba`, new Uint8Array(100));
    // Uploads cache their pixels for the renders that follow: two more push these out, as if another isolate had taken them.
    for (const text of ['other', 'another']) await uploadBackground(op, (await renderQrPng(text, 430)).bytes, 'image/png');
    for (const key of [missing, truncated]) {
      const res = await api(op, '/posters/preview', { method: 'POST', json: { background_img: key } });
      expect(res.status).toBe(200);
      expect((await env.UPLOADS.head(`${key}.rgba`))?.size).toBe(750 * 1334 * 4);
    }
  });
});

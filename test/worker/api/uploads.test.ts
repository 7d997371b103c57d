/** `POST /api/uploads`: poster backgrounds, checked by their bytes and decoded once, at upload. */

import { env } from 'cloudflare:workers';
import { deflateSync } from 'node:zlib';
import { encode as encodeRgbaPng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { withBackground } from '../../../worker/campaign/backgrounds';
import { storeUpload } from '../../../worker/campaign/uploads';
import { createDb } from '../../../worker/db/client';
import { decodeJpeg } from '../../../worker/poster/jpeg-decoder';
import { encodePng } from '../../../worker/poster/png';
import { renderQrPng } from '../../../worker/poster/render';
import photoDataUrl from '../../fixtures/photo-2000x1500.jpg?inline';
import bigPhotoDataUrl from '../../fixtures/photo-4000x3000.jpg?inline';
import { api, type Operator, register } from '../helpers';
import { BACKGROUND, uploadBackground } from '../task-helpers';

const uploadsOf = async (op: Operator) => (await env.DB.prepare('SELECT count(*) AS n FROM uploads WHERE mtb_user_id = ?').bind(op.id).first<any>()).n;

describe('happy', () => {
  it('accepts JPG/PNG by their bytes, whatever the request calls them', async () => {
    const op = await register();
    const ok = await api(op, '/uploads', { method: 'POST', body: BACKGROUND, headers: { 'content-type': 'image/png' } });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ content_type: 'image/jpeg', width: 750, height: 1334 });
    expect(await uploadsOf(op)).toBe(1);
  });

  it('decodes each background once, at upload, and stores its canvas pixels next to it', async () => {
    const op = await register();
    const key = await uploadBackground(op);
    const stored = await env.UPLOADS.get(`${key}.rgba`);
    expect(stored?.customMetadata).toEqual({ format: 'rgba8', width: '750', height: '1334' });
    const pixels = new Uint8Array(await stored!.arrayBuffer());
    const decoded = decodeJpeg(BACKGROUND).pixels;
    expect(pixels.byteLength).toBe(750 * 1334 * 4);
    // findIndex rather than toEqual: a deep compare of 4 MB takes vitest seconds.
    expect(pixels.findIndex((v, i) => v !== decoded[i])).toBe(-1);
    // Another size and format is scaled to cover the canvas at upload too.
    const square = await uploadBackground(op, (await renderQrPng('background', 430)).bytes, 'image/png');
    expect((await env.UPLOADS.head(`${square}.rgba`))?.size).toBe(750 * 1334 * 4);
  });

  it('scales other sizes to cover the canvas, centred, transparency over white', async () => {
    const op = await register();
    const stored = async (key: string) => new Uint8Array(await (await env.UPLOADS.get(`${key}.rgba`))!.arrayBuffer());
    const at = (pixels: Uint8Array, x: number, y: number) => Array.from(pixels.subarray((y * 750 + x) * 4, (y * 750 + x) * 4 + 4));
    const near = (got: number[], want: number[]) => got.every((v, i) => Math.abs(v - want[i]) <= 6);
    // 300×200, left half red, right half blue: scaled 6.67× to cover 1334 rows, the middle 750 columns kept.
    const halves = new Uint8Array(300 * 200 * 4);
    for (let i = 0; i < 300 * 200; i++) halves.set(i % 300 < 150 ? [230, 20, 20, 255] : [20, 20, 230, 255], i * 4);
    const wide = await stored(await uploadBackground(op, encodePng({ pixels: halves, width: 300, height: 200 }), 'image/png'));
    expect(near(at(wide, 100, 667), [230, 20, 20, 255])).toBe(true);
    expect(near(at(wide, 650, 20), [20, 20, 230, 255])).toBe(true);
    // Fully transparent: white, opaque.
    const clear = await stored(
      await uploadBackground(op, encodeRgbaPng({ data: new Uint8Array(40 * 40 * 4), width: 40, height: 40, channels: 4, depth: 8 }), 'image/png'),
    );
    expect(at(clear, 375, 667)).toEqual([255, 255, 255, 255]);
    // A 2000×1500 photo (3.0 MP, the cap) with a blue disc in its middle.
    const photo = await stored(
      await uploadBackground(
        op,
        Uint8Array.from(atob(photoDataUrl.slice(photoDataUrl.indexOf(',') + 1)), (c) => c.charCodeAt(0)),
      ),
    );
    expect(near(at(photo, 375, 667), [60, 160, 240, 255])).toBe(true);
  });

  it('decodes an upload into the buffer of a cached background no render holds, and caches it for the posters that follow', async () => {
    const op = await register();
    const db = createDb(env.DB);
    // The same picture as other bytes (a comment segment after SOI): a new key each.
    const variant = (n: number) => Uint8Array.from([0xff, 0xd8, 0xff, 0xfe, 0, 3, n, ...BACKGROUND.subarray(2)]);
    const buffer = (key: string) => withBackground(env.UPLOADS, key, async ({ background }) => background.pixels.buffer);
    const [first, second] = [(await storeUpload(db, env.UPLOADS, op.id, variant(1))).key, (await storeUpload(db, env.UPLOADS, op.id, variant(2))).key];
    const secondBuffer = await buffer(second);
    await buffer(first); // now the second is the least recently used
    const third = (await storeUpload(db, env.UPLOADS, op.id, variant(3))).key;
    // Cached at upload: rendered without reading the stored pixels, from the second's buffer.
    await env.UPLOADS.delete(`${third}.rgba`);
    expect(await buffer(third)).toBe(secondBuffer);
    // A background a render holds is never refilled, even the least recently used: the upload then decodes into a new buffer.
    await withBackground(env.UPLOADS, first, async ({ background }) => {
      await buffer(third);
      const before = background.pixels.slice(0, 4096);
      const fourth = (
        await storeUpload(
          db,
          env.UPLOADS,
          op.id,
          Uint8Array.from(atob(photoDataUrl.slice(photoDataUrl.indexOf(',') + 1)), (c) => c.charCodeAt(0)),
        )
      ).key;
      expect(await buffer(fourth)).not.toBe(background.pixels.buffer);
      expect(background.pixels.slice(0, 4096)).toEqual(before);
    });
  });
});

describe('security', () => {
  it('refuses files that lie about their type, oversize bodies and pixel bombs, storing nothing', async () => {
    const op = await register();
    const form = new FormData();
    form.append('file', new Blob(['<svg xmlns="http://www.w3.org/2000/svg"/>'], { type: 'image/png' }), 'evil.png');
    const lying = await api(op, '/uploads', { method: 'POST', body: form });
    expect(lying.status).toBe(415);
    expect(await lying.json()).toMatchObject({ error: { code: 'unsupported_media_type', fields: { file: '只支持 JPG 或 PNG 图片' } } });
    const big = new Uint8Array(2 * 1024 * 1024 + 1);
    big.set(BACKGROUND.subarray(0, 1000));
    expect((await api(op, '/uploads', { method: 'POST', body: big, headers: { 'content-type': 'image/jpeg' } })).status).toBe(413);
    // A picture whose header promises more pixels than the renderer may decode is refused before decoding.
    const huge = new Uint8Array(64);
    huge.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    new DataView(huge.buffer).setUint32(16, 4000);
    new DataView(huge.buffer).setUint32(20, 3000);
    const refused = await api(op, '/uploads', { method: 'POST', body: huge, headers: { 'content-type': 'image/png' } });
    expect(refused.status).toBe(422);
    expect((await refused.json<any>()).error.fields.file).toContain('4000×3000 像素过多');
    expect(await uploadsOf(op)).toBe(0);
  });
});

/** A PNG of the given chunks after the signature, each chunk's CRC left zero (decoders here do not check it). */
function png(...chunks: [string, Uint8Array][]): Uint8Array {
  const parts = chunks.map(([type, data]) => {
    const out = new Uint8Array(12 + data.length);
    new DataView(out.buffer).setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    return out;
  });
  return Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...parts.flatMap((p) => [...p])]);
}

function ihdr(width: number, height: number, colourType = 2): Uint8Array {
  const out = new Uint8Array(13);
  new DataView(out.buffer).setUint32(0, width);
  new DataView(out.buffer).setUint32(4, height);
  out.set([8, colourType, 0, 0, 0], 8);
  return out;
}

describe('security: pictures that are not what they say', () => {
  const refused = async (op: Operator, bytes: Uint8Array, status: number) => {
    const res = await api(op, '/uploads', { method: 'POST', body: bytes, headers: { 'content-type': 'image/png' } });
    expect(res.status, await res.clone().text()).toBe(status);
    expect((await res.json<any>()).error.fields.file).toBeTruthy();
  };

  it('refuses a PNG whose image data inflates past width × height × channels (a decompression bomb)', async () => {
    const op = await register();
    // 1000×1000 RGB needs 3,001,000 bytes; this IDAT inflates to 32 MB.
    await refused(op, png(['IHDR', ihdr(1000, 1000)], ['IDAT', deflateSync(new Uint8Array(32 * 1024 * 1024), { level: 9 })], ['IEND', new Uint8Array()]), 415);
    expect(await uploadsOf(op)).toBe(0);
  });

  it('checks every frame of a JPEG against the pixel cap: a small first frame does not let a 12 MP one through', async () => {
    const op = await register();
    const big = Uint8Array.from(atob(bigPhotoDataUrl.slice(bigPhotoDataUrl.indexOf(',') + 1)), (c) => c.charCodeAt(0));
    // SOI, a baseline frame header declaring 750×1334, then the whole 4000×3000 photo after its SOI.
    const sof = [0xff, 0xc0, 0, 17, 8, 1334 >> 8, 1334 & 255, 750 >> 8, 750 & 255, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
    await refused(op, Uint8Array.from([0xff, 0xd8, ...sof, ...big.subarray(2)]), 422);
    expect(await uploadsOf(op)).toBe(0);
  });

  it('decodes before storing: files that merely start like a PNG or a JPEG are refused', async () => {
    const op = await register();
    await refused(op, png(['IHDR', ihdr(100, 100)], ['IDAT', new Uint8Array(500).fill(0x5a)], ['IEND', new Uint8Array()]), 415);
    const sof = [0xff, 0xc0, 0, 17, 8, 0, 100, 0, 100, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
    await refused(op, Uint8Array.from([0xff, 0xd8, ...sof, ...new Uint8Array(500).fill(0x5a)]), 415);
    expect(await uploadsOf(op)).toBe(0);
  });
});

import { decode as fastPngDecode, encode as fastPngEncode } from 'fast-png';
import jpegJs from 'jpeg-js';
import jsQR from 'jsqr';
import { describe, expect, it } from 'vitest';
import { coverPixels } from '../../worker/poster/background';
import type { Pixels } from '../../worker/poster/engines';
import { fitText, missingGlyphs } from '../../worker/poster/fonts';
import { ImageError } from '../../worker/poster/image-error';
import { cleanMcus, encodeJpeg, encodeMcus } from '../../worker/poster/jpeg';
import { decodeJpeg } from '../../worker/poster/jpeg-decoder';
import { DEFAULT_LAYOUT, POSTER_HEIGHT, POSTER_WIDTH, type PosterLayout, resolveLayout } from '../../worker/poster/layout';
import { decodePng } from '../../worker/poster/png-decoder';
import { MAX_JPEG_BYTES, type PosterInput, renderPoster, renderPosterPixels, renderQrPng, renderTextSvg } from '../../worker/poster/render';
import { minRuleFont, setRule } from '../../worker/poster/rule';
import photoUrl from '../fixtures/photo-2000x1500.jpg?inline';
import backgroundUrl from '../fixtures/poster-background.jpg?inline';

const bytesOf = (dataUrl: string) => Uint8Array.from(atob(dataUrl.slice(dataUrl.indexOf(',') + 1)), (c) => c.charCodeAt(0));
// A synthetic photo-like 750×1334 JPEG (progressive, 4:2:2), see test/fixtures/make-poster-background.mjs.
const backgroundJpeg = bytesOf(backgroundUrl);
const background = decodeJpeg(backgroundJpeg);
const QR_URL = 'http://weixin.qq.com/q/02Ab3CdEfGhIjK1MnOpQrS0000';

const input = (over: Partial<PosterInput> = {}): PosterInput => ({
  background,
  avatar: null,
  nickname: '张三🎉小明😀 很长很长的微信昵称一定会被截断',
  rule: '邀请 3 位好友扫码关注，即可免费领取精美礼品一份🎁，先到先得！',
  qrContent: QR_URL,
  ...over,
});

function readQr({ pixels, width, height }: Pixels): string | undefined {
  return jsQR(new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, pixels.byteLength), width, height)?.data;
}

/** A square of the image (with its own pixel buffer), e.g. to look for the QR code only where it is. */
function crop({ pixels, width }: Pixels, box: { x: number; y: number; size: number }): Pixels {
  const out = new Uint8Array(box.size * box.size * 4);
  for (let row = 0; row < box.size; row++) {
    const start = ((box.y + row) * width + box.x) * 4;
    out.set(pixels.subarray(start, start + box.size * 4), row * box.size * 4);
  }
  return { pixels: out, width: box.size, height: box.size };
}

describe('renderPoster', () => {
  it('renders a 750×1334 JPEG under the size budget from a photo background, Chinese + emoji nickname', async () => {
    let started = performance.now();
    const first = await renderPoster(input());
    const firstMs = performance.now() - started;
    const warmMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      started = performance.now();
      await renderPoster(input());
      warmMs.push(performance.now() - started);
    }
    const median = warmMs.sort((a, b) => a - b)[1];
    console.log(`poster JPEG: first ${firstMs.toFixed(0)} ms (wasm init + fonts), warm median ${median.toFixed(0)} ms, ${first.bytes.byteLength} bytes`);

    expect(first.contentType).toBe('image/jpeg');
    expect([first.bytes[0], first.bytes[1], first.bytes.at(-2), first.bytes.at(-1)]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
    expect(first.bytes.byteLength).toBeLessThanOrEqual(MAX_JPEG_BYTES);
    const decoded = decodeJpeg(first.bytes);
    expect([decoded.width, decoded.height, first.width, first.height]).toEqual([POSTER_WIDTH, POSTER_HEIGHT, POSTER_WIDTH, POSTER_HEIGHT]);
    // The QR survives JPEG compression: decode the bytes a fan's phone would receive.
    expect(readQr(decoded)).toBe(QR_URL);
  });

  it('draws a QR code that decodes to exactly qrContent, wherever the layout puts it', async () => {
    const layout: PosterLayout = { ...DEFAULT_LAYOUT, qr: { x: 60, y: 500, size: 180 } };
    const content = `${QR_URL}?scene=1_12345`;
    expect(readQr(await renderPosterPixels(input({ layout, qrContent: content })))).toBe(content);
  });

  it('stays under the size budget over a background of heavy noise (lower quality steps)', async () => {
    let seed = 7;
    const noise = new Uint8Array(POSTER_WIDTH * POSTER_HEIGHT * 4);
    for (let i = 0; i < noise.length; i++) noise[i] = i % 4 === 3 ? 255 : 64 + ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 25);
    const noisy = encodeJpeg({ pixels: noise, width: POSTER_WIDTH, height: POSTER_HEIGHT }, 90);
    expect(noisy.byteLength).toBeGreaterThan(MAX_JPEG_BYTES);
    const poster = await renderPoster(input({ background: await coverPixels(noisy) }));
    expect(poster.bytes.byteLength).toBeLessThanOrEqual(MAX_JPEG_BYTES);
    expect(readQr(crop(decodeJpeg(poster.bytes), DEFAULT_LAYOUT.qr))).toBe(QR_URL);
  });

  it('renders PNG on request', async () => {
    const png = await renderPoster(input({ format: 'png' }));
    expect(png.contentType).toBe('image/png');
    expect(Array.from(png.bytes.subarray(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(readQr(await decodePng(png.bytes))).toBe(QR_URL);
  });

  it('covers the canvas with a background of another size and format (PNG, 430×430)', async () => {
    const square = await renderQrPng('background', 430);
    const poster = await renderPosterPixels(input({ background: await coverPixels(square.bytes) }));
    expect([poster.width, poster.height]).toEqual([POSTER_WIDTH, POSTER_HEIGHT]);
    expect(readQr(poster)).toBe(QR_URL);
  });

  it('draws the default avatar for a null or broken avatar, and the fan’s own otherwise', async () => {
    const box = DEFAULT_LAYOUT.avatar;
    const none = crop(await renderPosterPixels(input({ avatar: null })), box).pixels;
    const truncatedJpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3, 4, 5]);
    const broken = crop(await renderPosterPixels(input({ avatar: truncatedJpeg })), box).pixels;
    const garbage = crop(await renderPosterPixels(input({ avatar: new Uint8Array(64).fill(7) })), box).pixels;
    const own = crop(await renderPosterPixels(input({ avatar: (await renderQrPng('avatar', 132)).bytes })), box).pixels;
    expect(broken).toEqual(none);
    expect(garbage).toEqual(none);
    expect(own).not.toEqual(none);
  });

  it('paints on the shared background only while encoding: the next render starts from clean pixels', async () => {
    await renderPoster(input());
    const clean = decodeJpeg(backgroundJpeg).pixels;
    // findIndex rather than toEqual: a deep compare of 4 MB takes vitest seconds.
    expect(background.pixels.findIndex((v, i) => v !== clean[i])).toBe(-1);
  });

  it('covers the canvas with a poster-sized JPEG as it is, and refuses bytes that are neither JPEG nor PNG', async () => {
    const pixels = await coverPixels(backgroundJpeg);
    expect([pixels.width, pixels.height, pixels.pixels.byteLength]).toEqual([POSTER_WIDTH, POSTER_HEIGHT, POSTER_WIDTH * POSTER_HEIGHT * 4]);
    expect(pixels.pixels.findIndex((v, i) => v !== background.pixels[i])).toBe(-1);
    await expect(coverPixels(new Uint8Array([1, 2, 3]))).rejects.toThrow(/neither a JPEG nor a PNG/);
  });
});

describe('fonts', () => {
  it('has a glyph for Chinese and common emoji, and reports what it lacks', () => {
    expect(missingGlyphs('张三🎉小明😀')).toEqual([]);
    expect(missingGlyphs('👍❤️🔥🌹🧧✨ Hello, 世界！123…')).toEqual([]);
    expect(missingGlyphs('\uE000')).toEqual(['\uE000']);
    expect(missingGlyphs('a\uE000b\uE000')).toEqual(['\uE000']);
  });

  it('draws distinct outlines for distinct characters (no tofu boxes)', async () => {
    // One character per render, same position, marked by a colour: identical tofu boxes would
    // give identical paths.
    const box = { ...DEFAULT_LAYOUT.rule, color: '#123456' };
    const outline = async (text: string) => {
      const { svg } = await renderTextSvg(text, box);
      const path = svg.match(/<path[^>]*fill="#123456"[^>]*>/)?.[0] ?? '';
      return path.match(/ d="([^"]+)"/)?.[1] ?? '';
    };
    const outlines = await Promise.all(['测', '试', '🎉', '😀'].map(outline));
    for (const d of outlines) expect(d.length).toBeGreaterThan(100);
    expect(new Set(outlines).size).toBe(4);
  });

  it('cuts text to a width with an ellipsis, leaving short text alone', () => {
    expect(fitText('张三', 36, 500)).toBe('张三');
    const cut = fitText('很长很长的微信昵称一定会被截断很长很长的微信昵称', 36, 300);
    expect(cut.endsWith('…')).toBe(true);
    // Noto Sans SC ideographs are 1 em wide: 300 px at 36 px holds 8, one of them given to "…".
    expect([...cut].length).toBe(8);
  });
});

describe('renderQrPng', () => {
  it('renders a PNG that decodes to its content, including non-ASCII text', async () => {
    for (const content of ['PROMO-2024-ABCDEF', '优惠码：新年快乐🎉']) {
      const png = await renderQrPng(content);
      expect([png.contentType, png.width, png.height]).toEqual(['image/png', 430, 430]);
      expect(readQr(await decodePng(png.bytes))).toBe(content);
    }
  });

  it('refuses a silly size', async () => {
    await expect(renderQrPng('x', 10)).rejects.toThrow(RangeError);
  });
});

describe('resolveLayout', () => {
  it('returns the defaults for missing or malformed input, without throwing', () => {
    for (const junk of [undefined, null, 42, 'not json', '[1,2]', [], { avatar: 'big', qr: null }]) {
      expect(resolveLayout(junk)).toEqual(DEFAULT_LAYOUT);
    }
  });

  it('merges a partial layout, from an object or its JSON text', () => {
    const layout = resolveLayout('{"qr":{"size":200},"nickname":{"color":"#F00","fontSize":"40"}}');
    expect(layout.qr).toEqual({ ...DEFAULT_LAYOUT.qr, size: 200 });
    expect(layout.nickname).toMatchObject({ color: '#f00', fontSize: 40, x: DEFAULT_LAYOUT.nickname.x });
    expect(layout.avatar).toEqual(DEFAULT_LAYOUT.avatar);
  });

  it('keeps everything on the canvas and colours to #rgb/#rrggbb', () => {
    const layout = resolveLayout({
      avatar: { x: -50, y: 99999, size: 5000 },
      qr: { x: 740, y: 1330, size: 1 },
      nickname: { x: 749.6, y: -1, fontSize: 999, color: 'red', maxWidth: 10_000 },
      rule: { x: Number.NaN, y: Infinity, fontSize: 1, color: '#12345g', width: -5 },
    });
    expect(layout.avatar).toEqual({ x: 0, y: POSTER_HEIGHT - POSTER_WIDTH, size: POSTER_WIDTH });
    expect(layout.qr).toEqual({ x: POSTER_WIDTH - 100, y: POSTER_HEIGHT - 100, size: 100 });
    expect(layout.nickname.fontSize).toBe(120);
    expect(layout.nickname.x + layout.nickname.maxWidth).toBeLessThanOrEqual(POSTER_WIDTH);
    expect(layout.nickname.color).toBe(DEFAULT_LAYOUT.nickname.color);
    expect(layout.rule).toMatchObject({ x: DEFAULT_LAYOUT.rule.x, fontSize: 10, color: DEFAULT_LAYOUT.rule.color, width: 20 });
    expect(layout.rule.y).toBeLessThanOrEqual(POSTER_HEIGHT - 10);
    expect(layout.rule.y + layout.rule.height).toBeLessThanOrEqual(POSTER_HEIGHT);
  });

  it('gives a rule box saved without a height the room below it, at least one line', () => {
    expect(resolveLayout({ rule: { x: 40, y: 1256, fontSize: 26, width: 400 } }).rule.height).toBe(POSTER_HEIGHT - 1256);
    expect(resolveLayout({ rule: { y: 1300, fontSize: 26, height: 5 } }).rule.height).toBe(Math.ceil(26 * 1.25));
  });
});

describe('the rule', () => {
  const RULE =
    '活动规则：\n1. 邀请 3 位好友扫码关注本公众号，即可领取精美帆布袋一个🎁；\n2. 邀请 10 位好友可得保温杯☕，30 位得蓝牙耳机🎧（先到先得，送完即止）。\n活动截止 11 月 30 日，Enjoy it!';
  const squash = (s: string) => s.replace(/\s+/g, '');
  const box = DEFAULT_LAYOUT.rule;

  it('wraps to its box at the configured size: every character, the operator’s line breaks kept, no line too wide', () => {
    const set = setRule(RULE, box);
    expect(set).toMatchObject({ fontSize: box.fontSize, fits: true });
    expect(set.lines.length).toBeGreaterThan(3);
    expect(squash(set.lines.join(''))).toBe(squash(RULE));
    expect(set.lines[0]).toBe('活动规则：');
    for (const line of set.lines) expect(fitText(line, set.fontSize, box.width)).toBe(line);
    expect(set.lines.length * set.fontSize * 1.25).toBeLessThanOrEqual(box.height);
  });

  it('never starts a line with closing punctuation', () => {
    const set = setRule('一二三四五六七八九十，一二三四五六七八九十。一二三四五六七八九十！', { ...box, width: 10 * box.fontSize });
    expect(set.fits).toBe(true);
    for (const line of set.lines) expect(line).not.toMatch(/^[，。！]/);
    expect(set.lines.join('')).toBe('一二三四五六七八九十，一二三四五六七八九十。一二三四五六七八九十！');
  });

  it('shrinks to fit a box too small at the configured size, and cuts with "…" only below the smallest size', () => {
    const shrunk = setRule(RULE, { ...box, height: 150 });
    expect(shrunk.fits).toBe(true);
    expect(shrunk.fontSize).toBeLessThan(box.fontSize);
    expect(shrunk.fontSize).toBeGreaterThanOrEqual(minRuleFont(box.fontSize));
    expect(squash(shrunk.lines.join(''))).toBe(squash(RULE));

    const cut = setRule(RULE, { ...box, height: 40 });
    expect(cut).toMatchObject({ fontSize: minRuleFont(box.fontSize), fits: false });
    expect(cut.lines.length).toBe(Math.floor(40 / (cut.fontSize * 1.25)));
    expect(cut.lines.at(-1)!.endsWith('…')).toBe(true);
  });

  it('is drawn whole on the poster: one band of ink per line, all inside the box', async () => {
    const dark: Pixels = { pixels: new Uint8Array(POSTER_WIDTH * POSTER_HEIGHT * 4).fill(24), width: POSTER_WIDTH, height: POSTER_HEIGHT };
    const withRule = await renderPosterPixels(input({ background: dark, rule: RULE }));
    const without = await renderPosterPixels(input({ background: dark, rule: '' }));
    const inkRows = new Set<number>();
    let outside = 0;
    for (let y = 0; y < POSTER_HEIGHT; y++) {
      for (let x = 0; x < POSTER_WIDTH; x++) {
        const i = (y * POSTER_WIDTH + x) * 4;
        if (Math.abs(withRule.pixels[i] - without.pixels[i]) < 64) continue;
        if (x < box.x || x >= box.x + box.width || y < box.y || y >= box.y + box.height) outside++;
        else inkRows.add(y);
      }
    }
    expect(outside).toBe(0);
    // Rows with ink, grouped where a gap of blank rows separates them: one group per line.
    const bands = [...inkRows].sort((a, b) => a - b).filter((y, i, rows) => i === 0 || y - rows[i - 1] > 1).length;
    expect(bands).toBe(setRule(RULE, box).lines.length);
  });
});

/** The largest difference of any RGB sample between two RGBA images of one size. */
function maxDifference(a: Uint8Array, b: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) if (i % 4 !== 3) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('decoders', () => {
  it('decode JPEGs as jpeg-js does, within IDCT rounding: progressive 4:2:2, baseline 4:2:0, 4:4:4, restart markers', async () => {
    const grey = new Uint8Array(300 * 200 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 7) % 251));
    const samples = [
      backgroundJpeg,
      bytesOf(photoUrl),
      new Uint8Array(jpegJs.encode({ data: grey, width: 300, height: 200 }, 90).data),
      encodeJpeg(background, 80),
    ];
    for (const jpeg of samples) {
      const ours = decodeJpeg(jpeg);
      const theirs = jpegJs.decode(jpeg, { useTArray: true, formatAsRGBA: true });
      expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height]);
      expect(maxDifference(ours.pixels, theirs.data)).toBeLessThanOrEqual(3);
    }
  });

  it('decode PNGs of every channel layout and depth as fast-png does, alpha over white', async () => {
    for (const [channels, depth] of [
      [1, 8],
      [2, 8],
      [3, 8],
      [4, 8],
      [3, 16],
      [4, 16],
    ] as const) {
      const data = (depth === 16 ? new Uint16Array(30 * 20 * channels) : new Uint8Array(30 * 20 * channels)).map(
        (_, i) => (i * 2654435761) % (depth === 16 ? 65536 : 256),
      );
      const png = fastPngEncode({ width: 30, height: 20, data, channels, depth });
      const ours = await decodePng(png);
      const theirs = fastPngDecode(png);
      for (let p = 0; p < 30 * 20; p++) {
        const sample = (c: number) => Number(theirs.data[p * channels + c]) / (depth === 16 ? 257 : 1);
        const alpha = channels % 2 === 0 ? sample(channels - 1) / 255 : 1;
        for (let c = 0; c < 3; c++) {
          const want = sample(channels < 3 ? 0 : c) * alpha + 255 * (1 - alpha);
          // 16-bit samples are blended on their high bytes: within 2 of the exact value.
          expect(Math.abs(ours.pixels[p * 4 + c] - want), `${channels}×${depth}-bit pixel ${p}`).toBeLessThanOrEqual(depth === 16 ? 2 : 1);
        }
      }
    }
  });

  it('refuse a frame over the pixel cap before decoding it, a second frame, and data that ends early', async () => {
    const reason = async (f: () => unknown) => {
      try {
        await f();
      } catch (e) {
        return e instanceof ImageError ? e.reason : String(e);
      }
      return 'decoded';
    };
    expect(await reason(() => decodeJpeg(bytesOf(photoUrl), { maxPixels: 2_999_999 }))).toBe('too_large');
    const at = backgroundJpeg.findIndex((b, i) => b === 0xff && backgroundJpeg[i + 1] === 0xc2);
    const sof = backgroundJpeg.subarray(at, at + 2 + ((backgroundJpeg[at + 2] << 8) | backgroundJpeg[at + 3]));
    expect(await reason(() => decodeJpeg(Uint8Array.from([0xff, 0xd8, ...sof, ...backgroundJpeg.subarray(2)])))).toBe('unreadable');
    expect(await reason(() => decodeJpeg(backgroundJpeg.subarray(0, 600)))).toBe('unreadable');
    const png = fastPngEncode({ width: 300, height: 200, data: new Uint8Array(300 * 200 * 3), channels: 3, depth: 8 });
    expect(await reason(() => decodePng(png, { maxPixels: 59_999 }))).toBe('too_large');
    expect(await reason(() => decodePng(png.subarray(0, png.length - 20)))).toBe('unreadable');
  });
});

describe('JPEG encoder', () => {
  it('copies the MCUs a poster left alone from the background’s: the same bytes as encoding it whole', async () => {
    const mcus = encodeMcus(background, 80);
    const painted = { ...background, pixels: background.pixels.slice() };
    const dirty = cleanMcus(750, 1334);
    for (let y = 40; y < 160; y++) painted.pixels.fill(0, (y * 750 + 40) * 4, (y * 750 + 160) * 4);
    for (let row = 2; row < 10; row++) dirty.fill(1, row * 47 + 2, row * 47 + 10);
    expect(encodeJpeg(painted, 80, { mcus, dirty })).toEqual(encodeJpeg(painted, 80));
  });
});

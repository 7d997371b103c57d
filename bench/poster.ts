/**
 * Benchmark 1 — poster render time and size through the real worker (the admin preview route,
 * same renderer as fans' posters), against the same poster composed with Pillow.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import qrcode from 'qrcode-generator';
import { run } from '../scripts/lib/processes';
import { ROOT } from '../scripts/lib/wrangler-dev';
import { avatarPng } from '../test/sandbox/png';
import { DEFAULT_LAYOUT } from '../worker/poster/layout';
import { type Api, BACKGROUND_FIXTURE, uploadBackground } from './lib/flow';
import { type Check, checksTable, kb, ms, table, verdict } from './lib/report';
import { round, type Summary, summarize } from './lib/stats';

/** Same text on both sides; no emoji, because the reference's CJK font has none. */
export const NICKNAME = '任务宝粉丝小明';
export const RULE = '邀请 3 位好友扫码关注即可领奖';
/** What the preview route encodes (SAMPLE_QR in worker/routes/api/posters.ts). */
const SAMPLE_QR = 'http://weixin.qq.com/q/preview-sample-poster';
const QUIET_MODULES = 4;

export interface PillowResult {
  available: boolean;
  reason?: string;
  python?: string;
  pillow?: string;
  font?: string;
  fontNote?: string;
  png?: { latency: Summary; bytes: number };
  jpeg?: { latency: Summary; bytes: number };
}

/** A python3 that can import PIL (pyenv's may not; Debian's python3-pil is for /usr/bin/python3). */
function findPython(): string | null {
  for (const py of [process.env.BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    if (spawnSync(py, ['-c', 'import PIL'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}

/** Noto Sans CJK SC if fontconfig knows it, else any TTF (said so in the output). */
function findFont(): { file: string; index: number; note?: string } | null {
  const fc = spawnSync('fc-match', ['-f', '%{file}\n%{index}', 'Noto Sans CJK SC:style=Regular'], { encoding: 'utf8' });
  if (fc.status === 0) {
    const [file, index] = fc.stdout.split('\n');
    if (file && existsSync(file) && /cjk|wqy|droid|sc/i.test(file)) return { file, index: Number(index) || 0 };
  }
  for (const file of ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc']) {
    if (existsSync(file)) return { file, index: file.endsWith('NotoSansCJK-Regular.ttc') ? 2 : 0 };
  }
  const fallback = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
  if (existsSync(fallback)) return { file: fallback, index: 0, note: 'no CJK font found: DejaVu Sans used, Chinese glyphs are drawn as boxes' };
  return null;
}

/** The QR matrix exactly as worker/poster/qr.ts lays it out (level M, byte mode, whole-pixel modules). */
function qrModules(content: string, size: number) {
  const qr = qrcode(0, 'M');
  qr.addData(content, 'Byte');
  qr.make();
  const count = qr.getModuleCount();
  const cell = Math.max(1, Math.floor(size / (count + 2 * QUIET_MODULES)));
  const rows = Array.from({ length: count }, (_, r) => Array.from({ length: count }, (_, c) => (qr.isDark(r, c) ? '1' : '0')).join(''));
  return { rows, cell, offset: Math.floor((size - count * cell) / 2) };
}

export async function benchPillow(tmp: string, runs: number): Promise<PillowResult> {
  const python = findPython();
  if (!python) return { available: false, reason: 'no python3 with Pillow (apt-get install -y python3-pil)' };
  const font = findFont();
  if (!font) return { available: false, reason: 'no TrueType font found for the nickname and rule' };
  const avatar = join(tmp, 'avatar.png');
  writeFileSync(avatar, avatarPng('o_bench_avatar'));
  const job = {
    background: BACKGROUND_FIXTURE,
    avatar,
    font: font.file,
    font_index: font.index,
    nickname: NICKNAME,
    rule: RULE,
    layout: DEFAULT_LAYOUT,
    qr: qrModules(SAMPLE_QR, DEFAULT_LAYOUT.qr.size),
    runs,
    warmup: 3,
    out: join(tmp, 'pillow-poster'),
  };
  const { stdout } = await run(python, [join(ROOT, 'bench/pillow_poster.py')], { input: JSON.stringify(job) });
  const out = JSON.parse(stdout) as { pillow: string; png: { times_ms: number[]; bytes: number }; jpeg: { times_ms: number[]; bytes: number } };
  return {
    available: true,
    python,
    pillow: out.pillow,
    font: `${font.file}#${font.index}`,
    fontNote: font.note,
    png: { latency: summarize(out.png.times_ms), bytes: out.png.bytes },
    jpeg: { latency: summarize(out.jpeg.times_ms), bytes: out.jpeg.bytes },
  };
}

/** Width and height from a JPEG's SOF marker (to check the route really rendered 750×1334). */
function jpegSize(b: Uint8Array): { width: number; height: number } | null {
  for (let i = 2; i + 9 < b.length; ) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1];
    const len = (b[i + 2] << 8) | b[i + 3];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (b[i + 5] << 8) | b[i + 6], width: (b[i + 7] << 8) | b[i + 8] };
    }
    i += 2 + len;
  }
  return null;
}

export interface OursPoster {
  firstMs: number;
  /** Warm isolate, same background every time: its decoded pixels come from the renderer's cache. */
  warm: Summary;
  /** Warm isolate, a background it has not rendered yet: one render per background (cache miss). */
  miss: Summary;
  /** Uploads of backgrounds new to the worker, each decoded and its pixels stored (after the renders). */
  upload: Summary;
  bytes: number;
  width: number;
  height: number;
}

/** Phase names for the memory samples (see bench/memory.ts). */
export const WARM_PHASE = 'first render + warm renders, background cached';
export const MISS_PHASE = 'renders of backgrounds not cached';
export const UPLOAD_PHASE = 'uploads of new backgrounds (decoded there)';

/** One preview render through the worker: wall time on loopback (auth + R2 read + render + reply). */
async function preview(api: Api, background: string): Promise<{ ms: number; bytes: Uint8Array }> {
  const t0 = performance.now();
  const res = await api.call('POST', '/posters/preview', { background_img: background, rule: RULE, nickname: NICKNAME });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const elapsed = performance.now() - t0;
  if (res.headers.get('content-type') !== 'image/jpeg') throw new Error(`preview answered ${res.headers.get('content-type')}`);
  return { ms: elapsed, bytes };
}

/**
 * `firstMs` must be the first poster of the isolate: call right after (re)starting wrangler dev.
 * Warm renders are sequential, after `warmup` untimed ones; then one render for each of
 * `missBackgrounds` (uploads of the same picture as other bytes), which the isolate has not seen;
 * then as many uploads of further variants, which decode the picture. `phase` is told when the
 * misses and the uploads start.
 */
export async function benchOurPoster(
  api: Api,
  background: string,
  missBackgrounds: string[],
  runs: number,
  phase: (name: string) => void,
  warmup = 3,
): Promise<OursPoster> {
  const first = await preview(api, background);
  for (let i = 0; i < warmup; i++) await preview(api, background);
  const times: number[] = [];
  let last = first.bytes;
  for (let i = 0; i < runs; i++) {
    const r = await preview(api, background);
    times.push(r.ms);
    last = r.bytes;
  }
  const missTimes: number[] = [];
  phase(MISS_PHASE);
  for (const other of missBackgrounds) missTimes.push((await preview(api, other)).ms);
  const uploadTimes: number[] = [];
  phase(UPLOAD_PHASE);
  for (let i = 0; i < missBackgrounds.length; i++) {
    const t0 = performance.now();
    // Variants from 1000 on: the setup's uploads use 1…n, so these bytes are new to the worker.
    await uploadBackground(api, 1000 + i);
    uploadTimes.push(performance.now() - t0);
  }
  const size = jpegSize(last) ?? { width: 0, height: 0 };
  return { firstMs: first.ms, warm: summarize(times), miss: summarize(missTimes), upload: summarize(uploadTimes), bytes: last.byteLength, ...size };
}

export function posterReport(ours: OursPoster, pillow: PillowResult): { text: string; checks: Check[] } {
  const ref = pillow.png?.latency.median ?? NaN;
  const checks: Check[] = [
    {
      target: 'warm render ≤ 0.35 × Pillow-PNG time',
      measured: pillow.available
        ? `${ms(ours.warm.median)} vs 0.35 × ${ms(ref)} = ${ms(0.35 * ref)} (ratio ${round(ours.warm.median / ref, 2)})`
        : 'reference not run',
      verdict: verdict(pillow.available ? ours.warm.median <= 0.35 * ref : null),
      note: pillow.available ? '' : pillow.reason,
    },
    { target: 'poster ≤ 300 KB', measured: kb(ours.bytes), verdict: verdict(ours.bytes <= 300 * 1024) },
    { target: 'poster is 750×1334', measured: `${ours.width}×${ours.height}`, verdict: verdict(ours.width === 750 && ours.height === 1334) },
  ];
  const rows: (string | number)[][] = [
    ['ours: worker preview route, warm (JPEG), background cached', ours.warm.n, ms(ours.warm.median), ms(ours.warm.p99), kb(ours.bytes)],
    ['ours: warm isolate, background not cached (pixels read from R2)', ours.miss.n, ms(ours.miss.median), ms(ours.miss.p99), ''],
    ['ours: first render of the memory run’s fresh isolate (inspector attached; cold starts: 1b)', 1, ms(ours.firstMs), '', ''],
    ['ours: upload of a new background (decoded, pixels stored)', ours.upload.n, ms(ours.upload.median), ms(ours.upload.p99), ''],
  ];
  if (pillow.available) {
    rows.push(['reference: Pillow → PNG', pillow.png!.latency.n, ms(pillow.png!.latency.median), ms(pillow.png!.latency.p99), kb(pillow.png!.bytes)]);
    rows.push(['reference: Pillow → JPEG q80', pillow.jpeg!.latency.n, ms(pillow.jpeg!.latency.median), ms(pillow.jpeg!.latency.p99), kb(pillow.jpeg!.bytes)]);
  } else {
    rows.push([`reference: SKIPPED — ${pillow.reason}`, '', '', '', '']);
  }
  const notes = [
    '  ours = wall time of POST /api/posters/preview on loopback through wrangler dev (session check, R2 read, text laid out by satori and rasterised by resvg, the painted MCUs JPEG-coded and the rest copied, reply); default avatar, sample QR',
    '  backgrounds are decoded once, at upload, and their 750×1334 RGBA pixels and JPEG-coded MCUs stored in R2 next to the upload; renders never decode them',
    '  the worker keeps the last 2 backgrounds per isolate (a campaign\'s posters share one), so warm renders skip reading them; "not cached" renders',
    '  other uploads of the same picture, uploaded (and decoded) by another isolate before this one started: each reads 4 MB of pixels from R2',
    '  upload = POST /api/uploads of the same picture as new bytes: our JPEG decoder + the MCUs coded + three R2 writes + D1 row; run after the renders, inside the memory sampling',
    pillow.available
      ? `  reference = decode background + round avatar (132 px PNG) + text (${pillow.font}) + QR modules + encode; Pillow ${pillow.pillow} on ${pillow.python}; fonts loaded once${pillow.fontNote ? `; ${pillow.fontNote}` : ''}`
      : '',
  ].filter(Boolean);
  return {
    text:
      table('1. Poster render (750×1334 photo background, avatar, nickname, rule, QR)', ['renderer', 'runs', 'median', 'p99', 'bytes'], rows) +
      '\n' +
      notes.join('\n') +
      checksTable('   targets', checks),
    checks,
  };
}

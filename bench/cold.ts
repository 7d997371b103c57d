/**
 * Cold starts: the first request a fresh isolate handles, against the same request warm.
 *
 * Each sample is its own `wrangler dev` start (a fresh workerd, so a fresh isolate and fresh
 * Durable Objects), made ready by a request that warms none of the measured paths
 * (`/wechat/bench-traffic`); its first real request is timed (wall time on loopback, and the CPU
 * workerd spent on it from /proc), then the same request warm. Starts alternate between a poster
 * (the admin preview: session, R2, render) and a WeChat push (a new follower's subscribe: verify,
 * decrypt, the activity counter's call, the encrypted reply). One more start profiles a cold
 * poster through the inspector and sorts its CPU into the parts of the render.
 */
import type { WranglerDev, WranglerDevOptions } from '../scripts/lib/wrangler-dev';
import { fanMessage } from '../test/sandbox/pushes';
import { Cdp } from './lib/cdp';
import { type Account, type Api, createActivity, joinByKeyword, pushFan } from './lib/flow';
import { attribute, type Category, type CpuProfile, profiled } from './lib/profile';
import { type Check, checksTable, ms, table, verdict } from './lib/report';
import { round, summarize } from './lib/stats';
import { workerdCpu } from './lib/worker';
import { NICKNAME, RULE } from './poster';

/** Where a cold poster's CPU goes: function names of the worker bundle, innermost match wins. */
const POSTER_PARTS: Category[] = [
  ['resvg: wasm instantiation', /^(initWasm|__wbg_init|__wbg_finalize_init|ensureRasterEngine)$/],
  ['satori: yoga wasm instantiation', /^(ensureLayoutEngine|init|initYoga|loadYoga)$/],
  [
    'fonts: WOFFs unwrapped (native inflate), metrics read',
    /^(woffToSfnt|inflateSync|bundledFont|fontFor|fontsFor|readFontMetrics|sfntTable|forEachMapping|readFormat4|readFormat12|fontMetrics|advanceEm)$/,
  ],
  ['satori: font parsing (opentype.js)', /^(parse|parseBuffer|parseCmapTable|parseGlyfTable|loadFonts|addFonts|FontLoader)$/],
  [
    'text: laid out (satori) and rasterised (resvg)',
    /^(renderTextSvg|satori|textLayer|ruleLayer|linesLayer|setRule|fitText|lineWidth|missingGlyphs|drawable|rasterise|rasterisePixels)$/,
  ],
  ['QR code', /^(qrPixels|qrGrid|getLostPoint|getBestMaskPattern|makeImpl|mapData|createData|isDark)$/],
  ['JPEG: painted MCUs encoded, the rest copied', /^(encodeWithin|encodeJpeg|mcu|sampleMcu|codeBlock|fdct|pass|putBits|putCode|append)$/],
  ['compositing (paint, put back)', /^(paintOver|saveBox|avatarLayer|roundCrop|coverResize)$/],
  ['background: pixels and MCUs read from R2', /^(withBackground|readPixels|readExactly|readMcus|parseMcus)$/],
  ['garbage collection', /^\(garbage collector\)$/],
];
const REST = 'the rest: session, routing, D1, the runtime';

export interface ColdOptions {
  /** Starts wrangler dev on the bench's state, ready by `readyPath`, with an inspector when asked. */
  start(o: Pick<WranglerDevOptions, 'readyPath'> & { inspector?: boolean }): Promise<WranglerDev>;
  token: string;
  background: string;
  account: Account;
  /** A poster owner's take_part_in row: each push is a new follower scanning their poster. */
  ownerRow: number;
  /** Cold samples of each kind. */
  runs: number;
  warmRuns: number;
}

interface Timed {
  ms: number;
  cpuMs: number | null;
}

export interface ColdResult {
  poster: { cold: Timed[]; warm: Timed[] };
  push: { cold: Timed[]; warm: Timed[] };
  /**
   * A profiled cold poster: its wall time and workerd CPU (both with the profiler's own cost in),
   * and that CPU shared out over the parts of the render by the profile's samples.
   */
  breakdown: { ms: number; cpuMs: number | null; parts: { name: string; ms: number }[] } | null;
}

const READY = '/wechat/bench-traffic';
const SAMPLE_US = 250;
let helperSeq = 0;

export async function benchColdStarts(o: ColdOptions): Promise<ColdResult> {
  const preview = (w: WranglerDev) => async () => {
    const res = await fetch(`${w.url}/api/posters/preview`, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ background_img: o.background, rule: RULE, nickname: NICKNAME }),
    });
    await res.arrayBuffer();
    if (res.headers.get('content-type') !== 'image/jpeg') throw new Error(`preview answered ${res.status}`);
  };
  const push = (w: WranglerDev) => async () => {
    const openId = `o_cold_${Date.now().toString(36)}_${helperSeq++}`;
    const inner = fanMessage({ ghId: o.account.ghId, openId, createTime: Math.floor(Date.now() / 1000), type: 'subscribe', scene: `1_${o.ownerRow}` });
    const r = await pushFan(w.url, o.account, inner);
    if (r.status !== 200 || !r.body.startsWith('<xml>')) throw new Error(`push answered ${r.status} ${r.body.slice(0, 200)}`);
  };
  const result: ColdResult = { poster: { cold: [], warm: [] }, push: { cold: [], warm: [] }, breakdown: null };
  for (let i = 0; i < 2 * o.runs; i++) {
    const kind = i % 2 === 0 ? 'poster' : 'push';
    const worker = await o.start({ readyPath: READY });
    try {
      const request = (kind === 'poster' ? preview : push)(worker);
      result[kind].cold.push(await timed(worker, request));
      for (let k = 0; k < o.warmRuns; k++) result[kind].warm.push(await timed(worker, request));
    } finally {
      await worker.stop();
    }
  }
  const worker = await o.start({ readyPath: READY, inspector: true });
  try {
    const cdp = await Cdp.connect(worker.inspectorPort!);
    try {
      let profile: CpuProfile | null = null;
      const run = await timed(worker, async () => {
        profile = (await profiled(cdp, preview(worker), SAMPLE_US)).profile;
      });
      const parts = attribute(profile!, POSTER_PARTS, REST, SAMPLE_US);
      const sampled = parts.reduce((n, p) => n + p.ms, 0);
      const scale = run.cpuMs !== null && sampled > 0 ? run.cpuMs / sampled : 1;
      result.breakdown = { ms: run.ms, cpuMs: run.cpuMs, parts: parts.map((p) => ({ name: p.name, ms: p.ms * scale })) };
    } finally {
      cdp.close();
    }
  } finally {
    await worker.stop();
  }
  return result;
}

/** Wall time of one request on loopback, and the CPU wrangler dev's runtime spent meanwhile. */
async function timed(worker: WranglerDev, request: () => Promise<void>): Promise<Timed> {
  const before = workerdCpu(worker);
  const t0 = performance.now();
  await request();
  const elapsed = performance.now() - t0;
  const after = workerdCpu(worker);
  return { ms: elapsed, cpuMs: before && after ? (after.runtime - before.runtime) * 1000 : null };
}

const medianOf = (xs: number[]) => summarize(xs).median;
const list = (xs: Timed[]) => xs.map((x) => round(x.ms)).join(' / ');
const cpuList = (xs: Timed[]) => (xs.every((x) => x.cpuMs !== null) ? xs.map((x) => round(x.cpuMs!)).join(' / ') : 'n/a');

/** The cold-start table, the breakdown and the targets (a cold poster ≤ 200 ms; a cold push far inside WeChat's 5 s). */
export function coldReport(r: ColdResult, pillowJpegMs: number | null): { text: string; checks: Check[] } {
  const cold = (t: Timed[]) => medianOf(t.map((x) => x.ms));
  const warm = (t: Timed[]) => medianOf(t.map((x) => x.ms));
  const checks: Check[] = [
    {
      target: 'cold poster (first render of a fresh isolate) ≤ 200 ms',
      measured: `median ${ms(cold(r.poster.cold))} of ${r.poster.cold.length} starts (${list(r.poster.cold)} ms); warm ${ms(warm(r.poster.warm))}`,
      verdict: verdict(cold(r.poster.cold) <= 200),
      note: 'wall time on loopback; each start a fresh workerd',
    },
    {
      target: 'cold push (first of a fresh isolate) far inside 5 s (≤ 1 s)',
      measured: `median ${ms(cold(r.push.cold))} of ${r.push.cold.length} starts (${list(r.push.cold)} ms); warm ${ms(warm(r.push.warm))}`,
      verdict: verdict(cold(r.push.cold) <= 1000),
    },
  ];
  const rows: (string | number)[][] = [
    ['poster (admin preview), first of a fresh isolate', r.poster.cold.length, ms(cold(r.poster.cold)), list(r.poster.cold), cpuList(r.poster.cold)],
    ['poster, warm (same isolates)', r.poster.warm.length, ms(warm(r.poster.warm)), '', ''],
    ['push (subscribe, counted), first of a fresh isolate', r.push.cold.length, ms(cold(r.push.cold)), list(r.push.cold), cpuList(r.push.cold)],
    ['push, warm (same isolates)', r.push.warm.length, ms(warm(r.push.warm)), '', ''],
  ];
  if (pillowJpegMs !== null) rows.push(['reference: Pillow → JPEG q80 (warm, fonts loaded)', '', ms(pillowJpegMs), '', '']);
  const breakdown = r.breakdown
    ? table(
        `   where a cold poster's CPU goes (one more start, profiled: ${ms(r.breakdown.ms)} wall, ${r.breakdown.cpuMs === null ? 'n/a' : ms(r.breakdown.cpuMs)} workerd CPU with the profiler on, shared out by its samples)`,
        ['part', 'CPU'],
        r.breakdown.parts.map((p) => [p.name, ms(p.ms)]),
      )
    : '';
  return {
    text:
      table(
        '1b. Cold starts (each sample a fresh wrangler dev; its first request, then the same warm)',
        ['request', 'runs', 'median', 'each (ms)', 'workerd CPU (ms)'],
        rows,
      ) +
      breakdown +
      checksTable('   targets', checks),
    checks,
  };
}

/** An activity with one poster owner, for the cold pushes to assist; returns the owner's row. */
export async function prepareColdPush(api: Api, sandboxUrl: string, account: Account, background: string): Promise<number> {
  const keyword = `cold${Date.now().toString(36).slice(-6)}`;
  const activity = await createActivity(api, account.appid, background, keyword, [{ level: 1, number: 1000, good: '冷启动测试' }]);
  const owner = `o_cold_owner_${Date.now().toString(36)}`;
  await joinByKeyword(api.base, sandboxUrl, account, owner, keyword);
  const fans = await api.json<{ items: { id: number; open_id: string }[] }>('GET', `/fans?activity=${activity.id}`);
  const row = fans.items.find((f) => f.open_id === owner);
  if (!row) throw new Error('the cold pushes’ poster owner has no take_part_in row');
  return row.id;
}

import { env } from 'cloudflare:workers';
import { encode as encodeRgbaPng } from 'fast-png';
import photoDataUrl from '../fixtures/photo-2000x1500.jpg?inline';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeJpeg } from '../../worker/poster/jpeg';
import { encodePng } from '../../worker/poster/png';
import { renderQrPng } from '../../worker/poster/render';
import { api, authorizeAccount, fanPush, pushTicket, register, sandbox, uid, worker } from './helpers';
import { activityBody, BACKGROUND, join, openLink, posterOf, rowOf, setupActivity, uploadBackground } from './task-helpers';

beforeAll(async () => {
  await pushTicket();
});

describe('activities API', () => {
  it('validates each part and reports every field at once, changing nothing', async () => {
    const op = await register();
    const account = await authorizeAccount(op);
    const bg = await uploadBackground(op);
    const now = Date.now();
    const res = await api(op, '/activities', {
      method: 'POST',
      json: activityBody([account.appid, 'wxnotmine0000000000'], bg, {
        name: '这是一个超过十六个字的活动名称啊啊啊',
        start_time: new Date(now + 86_400_000).toISOString(),
        end_time: new Date(now).toISOString(),
        awards: [
          { level: 1, number: 5, good: '券' },
          { level: 2, number: 5, good: '杯' },
        ],
        poster: { background_img: 'bg/999/forged.png', key_word: '关键词长度超过了十个字符', rule: '' },
      }),
    });
    expect(res.status).toBe(422);
    const body = await res.json<any>();
    expect(Object.keys(body.error.fields)).toEqual(expect.arrayContaining(['name', 'poster.key_word', 'poster.rule']));
    // Once the shapes are right, the cross-part rules speak.
    const res2 = await api(op, '/activities', {
      method: 'POST',
      json: activityBody([account.appid, 'wxnotmine0000000000'], 'bg/999/forged.png', {
        start_time: new Date(now + 86_400_000).toISOString(),
        end_time: new Date(now).toISOString(),
        awards: [
          { level: 1, number: 5, good: '券' },
          { level: 2, number: 5, good: '杯' },
        ],
      }),
    });
    expect(res2.status).toBe(422);
    expect((await res2.json<any>()).error.fields).toMatchObject({
      end_time: '结束时间必须晚于开始时间',
      'awards.1.number': '高一阶的助力人数必须更多',
      publics: expect.stringContaining('wxnotmine0000000000'),
      'poster.background_img': '请先上传海报背景图',
    });
    expect((await (await api(op, '/activities')).json<any>()).total).toBe(0);
  });

  it('refuses a keyword used by an overlapping activity on the same account', async () => {
    const s = await setupActivity();
    const bg = await uploadBackground(s.op);
    const clash = await api(s.op, '/activities', { method: 'POST', json: activityBody([s.account.appid], bg, { poster: { background_img: bg, key_word: s.keyword, rule: 'r' } }) });
    expect(clash.status).toBe(422);
    expect((await clash.json<any>()).error.fields['poster.key_word']).toContain('拉新有礼');
    const later = activityBody([s.account.appid], bg, {
      start_time: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      end_time: new Date(Date.now() + 40 * 86_400_000).toISOString(),
      poster: { background_img: bg, key_word: s.keyword, rule: 'r' },
    });
    expect((await api(s.op, '/activities', { method: 'POST', json: later })).status).toBe(201);
  });

  it('after the start only name, end time, rule, prizes and stock change', async () => {
    const s = await setupActivity();
    const id = s.activity.id;
    const ok = await api(s.op, `/activities/${id}`, {
      method: 'PATCH',
      json: { name: '新名字', poster: { rule: '新规则' }, awards: s.activity.awards.map((a: any) => ({ ...a, good: `${a.good}+`, stock: 9 })) },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ name: '新名字', poster: { rule: '新规则' }, awards: [{ good: '优惠券+', stock: 9 }, {}, {}] });
    const locked = await api(s.op, `/activities/${id}`, { method: 'PATCH', json: { protect_switch: 2, poster: { key_word: 'other' }, awards: [{ level: 1, number: 9, good: 'x' }] } });
    expect(locked.status).toBe(422);
    expect(Object.keys((await locked.json<any>()).error.fields)).toEqual(expect.arrayContaining(['protect_switch', 'poster.key_word', 'awards']));
    // Resubmitting the whole unchanged form is fine.
    const { id: _id, status, accounts, participants, assists, created_at, warnings, ...same } = (await (await api(s.op, `/activities/${id}`)).json<any>());
    const resubmit = await api(s.op, `/activities/${id}`, { method: 'PATCH', json: same });
    expect(resubmit.status, await resubmit.clone().text()).toBe(200);
  });

  it('lists with filters, search and pagination, and deletes', async () => {
    const s = await setupActivity({ name: '春季50%活动' });
    const bg = await uploadBackground(s.op);
    const future = activityBody([s.account.appid], bg, { name: '未来活动', start_time: new Date(Date.now() + 86_400_000).toISOString(), end_time: new Date(Date.now() + 2 * 86_400_000).toISOString() });
    const created = await (await api(s.op, '/activities', { method: 'POST', json: future })).json<any>();
    expect(created.status).toBe('pending');
    const list = async (q: string) => (await (await api(s.op, `/activities${q}`)).json<any>());
    expect((await list('')).total).toBe(2);
    expect((await list('?status=running')).items.map((a: any) => a.name)).toEqual(['春季50%活动']);
    expect((await list('?status=pending')).items.map((a: any) => a.id)).toEqual([created.id]);
    expect((await list('?q=50%25')).total).toBe(1);
    expect((await list('?q=%25%25')).total).toBe(0);
    expect((await list(`?account=${s.account.appid}&page=2&page_size=1`)).items).toHaveLength(1);
    expect((await api(s.op, `/activities/${created.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(s.op, `/activities/${created.id}`)).status).toBe(404);
    expect((await list('')).total).toBe(1);
  });

  it("another operator's ids are 404 everywhere and nothing changes", async () => {
    const s = await setupActivity();
    const intruder = await register();
    const rowId = (await (await api(s.op, '/activities')).json<any>()).items[0].id;
    for (const [method, path] of [['GET', `/activities/${rowId}`], ['PATCH', `/activities/${rowId}`], ['DELETE', `/activities/${rowId}`], ['GET', `/activities/${rowId}/stats`]] as const) {
      const res = await api(intruder, path, { method, ...(method === 'PATCH' ? { json: { name: 'x' } } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await api(intruder, '/fans/blacklist', { method: 'POST', json: { ids: [1], black: true } })).status).toBe(404);
    expect((await api(intruder, `/uploads/${s.activity.poster.background_img}`)).status).toBe(404);
    expect((await (await api(intruder, `/fans?activity=${rowId}`)).json<any>()).total).toBe(0);
    expect((await api(intruder, '/activities', { method: 'POST', json: activityBody([s.account.appid], s.activity.poster.background_img) })).status).toBe(422);
    expect((await (await api(s.op, `/activities/${rowId}`)).json<any>()).name).toBe('拉新有礼');
  });

  it('rejects wrong types, oversize strings and unknown enum values with 422', async () => {
    const op = await register();
    expect((await api(op, '/activities', { method: 'POST', json: { name: 42, publics: 'x', awards: {}, poster: [] } })).status).toBe(422);
    expect((await api(op, '/activities', { method: 'POST', json: { name: 'x'.repeat(100_000) } })).status).toBe(422);
    expect((await api(op, '/activities?status=bogus')).status).toBe(422);
    expect((await api(op, '/activities/abc')).status).toBe(422);
    expect((await api(op, '/fans?following=maybe')).status).toBe(422);
  });
});

describe('uploads', () => {
  it('accepts JPG/PNG by their bytes and refuses files that lie about their type', async () => {
    const op = await register();
    const ok = await api(op, '/uploads', { method: 'POST', body: BACKGROUND, headers: { 'content-type': 'image/png' } });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ content_type: 'image/jpeg', width: 750, height: 1334 });
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
    expect((await env.DB.prepare('SELECT count(*) AS n FROM uploads WHERE mtb_user_id = ?').bind(op.id).first<any>()).n).toBe(1);
  });

  it('renders the live preview with the real renderer', async () => {
    const op = await register();
    const key = await uploadBackground(op);
    const res = await api(op, '/posters/preview', { method: 'POST', json: { background_img: key, rule: '规则', layout: { qr: { x: 10, y: 10, size: 200 } } } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(new Uint8Array(await res.arrayBuffer()).subarray(0, 3)).toEqual(new Uint8Array([0xff, 0xd8, 0xff]));
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
    const clear = await stored(await uploadBackground(op, encodeRgbaPng({ data: new Uint8Array(40 * 40 * 4), width: 40, height: 40, channels: 4, depth: 8 }), 'image/png'));
    expect(at(clear, 375, 667)).toEqual([255, 255, 255, 255]);
    // A 2000×1500 photo (3.0 MP, the cap) with a blue disc in its middle.
    const photo = await stored(await uploadBackground(op, Uint8Array.from(atob(photoDataUrl.slice(photoDataUrl.indexOf(',') + 1)), (c) => c.charCodeAt(0))));
    expect(near(at(photo, 375, 667), [60, 160, 240, 255])).toBe(true);
  });

  it('previews each poster on its own background while more backgrounds than the cache holds take turns, one by one and at once', async () => {
    const op = await register();
    const colours = [[220, 30, 30], [30, 200, 30], [30, 30, 220]];
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
    together.forEach((got, n) => expect(near(got, colours[order[n]])).toBe(true));
  });

  it('renders uploads whose pixels are missing or truncated, and stores their pixels then', async () => {
    const op = await register();
    const missing = await uploadBackground(op);
    await env.UPLOADS.delete(`${missing}.rgba`);
    const truncated = await uploadBackground(op, (await renderQrPng('background', 430)).bytes, 'image/png');
    await env.UPLOADS.put(`${truncated}.rgba`, new Uint8Array(100));
    for (const key of [missing, truncated]) {
      const res = await api(op, '/posters/preview', { method: 'POST', json: { background_img: key } });
      expect(res.status).toBe(200);
      expect((await env.UPLOADS.head(`${key}.rgba`))?.size).toBe(750 * 1334 * 4);
    }
  });
});

describe('fans page and poster link, hostile input', () => {
  it('exports the filtered fans as CSV with formula-injection nicknames defused', async () => {
    const s = await setupActivity();
    const fan = uid('oE');
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: fan, nickname: '=cmd|\' /C calc\'!A0' });
    await posterOf(await openLink(await join(s, fan), fan));
    const res = await api(s.op, `/fans/export?activity=${s.activity.id}`);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const csv = await res.text();
    expect(csv.startsWith('\uFEFFID,昵称,OpenID')).toBe(true);
    expect(csv).toContain(`"'=cmd|' /C calc'!A0"`);
    expect(csv).not.toMatch(/(^|,)"?=cmd/m);
    const list = await (await api(s.op, `/fans?activity=${s.activity.id}&q=cmd`)).json<any>();
    expect(list.items[0]).toMatchObject({ open_id: fan, nick_name: "=cmd|' /C calc'!A0", origin_label: '其他', following: true });
  });

  it('pages by cursor both ways, searches nicknames of 1, 2 and more characters, and refuses bad paging', async () => {
    const s = await setupActivity();
    const intruder = await register();
    const { id: accountId } = (await env.DB.prepare('SELECT id FROM public_numbers WHERE authorizer_appid = ?').bind(s.account.appid).first<{ id: number }>())!;
    const names = ['小明', '王小红', 'Lucky7', '50%折扣', 'a_b', null, '李小'];
    await env.DB.batch(names.map((name, i) => env.DB.prepare('INSERT INTO take_part_in (activity_id, public_number_id, mtb_user_id, open_id, nick_name, ctime) VALUES (?, ?, ?, ?, ?, ?)')
      .bind(s.activity.id, accountId, s.op.id, `oPage${i}`, name, Date.now())));
    const list = async (query: string) => (await api(s.op, `/fans?activity=${s.activity.id}&${query}`)).json<any>();
    const nicks = (r: any) => r.items.map((f: any) => f.nick_name);

    // Forward: 3 pages of 3, 3, 1, newest first; the total is counted on page 1 and carried on.
    const pages = [await list('page_size=3')];
    while (pages.at(-1).next_cursor) pages.push(await list(`page_size=3&cursor=${encodeURIComponent(pages.at(-1).next_cursor)}`));
    expect(pages.map(nicks)).toEqual([['李小', null, 'a_b'], ['50%折扣', 'Lucky7', '王小红'], ['小明']]);
    expect(pages.map((p) => [p.page, p.total, p.total_capped, p.prev_cursor === null])).toEqual([[1, 7, false, true], [2, 7, false, false], [3, 7, false, false]]);
    // Back again from the last page.
    const back = await list(`page_size=3&cursor=${encodeURIComponent(pages[2].prev_cursor)}`);
    expect([nicks(back), back.page]).toEqual([['50%折扣', 'Lucky7', '王小红'], 2]);
    const top = await list(`page_size=3&cursor=${encodeURIComponent(back.prev_cursor)}`);
    expect([nicks(top), top.page, top.prev_cursor]).toEqual([['李小', null, 'a_b'], 1, null]);
    // Page numbers still jump near the top.
    expect(nicks(await list('page_size=3&page=2'))).toEqual(['50%折扣', 'Lucky7', '王小红']);

    const search = async (q: string) => nicks(await list(`q=${encodeURIComponent(q)}`)).sort();
    expect(await search('小')).toEqual(['小明', '李小', '王小红'].sort());
    expect(await search('小红')).toEqual(['王小红']);
    expect(await search('王小红')).toEqual(['王小红']);
    expect(await search('LUCKY')).toEqual(['Lucky7']);
    expect(await search('%')).toEqual(['50%折扣']);
    expect(await search('0%折')).toEqual(['50%折扣']);
    expect(await search('a_b')).toEqual(['a_b']);
    expect(await search('_')).toEqual(['a_b']);
    expect(await search('小x')).toEqual([]);
    // A nickname written later (OAuth) is found by its new name only.
    await env.DB.prepare('UPDATE take_part_in SET nick_name = ? WHERE open_id = ?').bind('张三丰', 'oPage0').run();
    expect(await search('三丰')).toEqual(['张三丰']);
    expect(await search('小明')).toEqual([]);
    expect((await (await api(intruder, '/fans?q=%E5%B0%8F')).json<any>()).total).toBe(0);

    const refused = async (query: string) => (await api(s.op, `/fans?${query}`)).json<any>();
    expect((await refused('cursor=bogus')).error.fields.cursor).toContain('游标无效');
    expect((await refused(`page=2&cursor=${encodeURIComponent(pages[0].next_cursor)}`)).error.fields.page).toContain('只能给一个');
    expect((await refused('page=501&page_size=20')).error.fields.page).toContain('cursor');
  });

  it('refuses forged and expired OAuth state, code replay, snapshot users and the wrong fan', async () => {
    const s = await setupActivity();
    const fan = uid('oO');
    const link = await join(s, fan);
    const forged = link.replace(/state=([^&]+)/, (_m, st) => `state=${st.slice(0, -2)}xx`);
    const page = await openLink(forged, fan);
    expect(page.status, await page.clone().text()).toBe(400);
    expect(await page.text()).toContain('链接已失效');

    const snapshot = await openLink(link, fan, { snapshot: true });
    expect(snapshot.status, await snapshot.clone().text()).toBe(403);
    expect(await snapshot.text()).toContain('请在微信中打开');

    const other = await openLink(link, uid('oZ'));
    expect(other.status, await other.clone().text()).toBe(403);

    // The same code twice: WeChat says 40163; the fan gets a page with a fresh link.
    const authorize = new URL(link.replace(/#wechat_redirect$/, ''));
    authorize.searchParams.set('as', fan);
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    const first = await worker(`${back.pathname}${back.search}`);
    expect(first.status, await first.clone().text()).toBe(200);
    const replay = await worker(`${back.pathname}${back.search}`);
    expect(replay.status, await replay.clone().text()).toBe(400);
    expect(await replay.text()).toContain('重新打开');
    expect(await rowOf(s.activity.id, fan)).toMatchObject({ nick_name: expect.any(String) });
  });

  it('when WeChat cannot give a QR, the fan gets a retry page and the row stays untouched', async () => {
    const s = await setupActivity();
    const fan = uid('oR');
    const link = await join(s, fan);
    await sandbox('/__sandbox/faults', { api: 'qrcode/create', appid: s.account.appid, errcode: -1, times: 3 });
    const page = await openLink(link, fan);
    expect(page.status).toBe(503);
    const html = await page.text();
    expect(html).toContain('海报生成失败');
    expect(await rowOf(s.activity.id, fan)).toMatchObject({ poster: null, qr_url: null, nick_name: null });
    // The retry button is a fresh OAuth link (codes are single-use); following it renders the poster.
    const retry = /<a class="button" href="([^"]+)"/.exec(html)![1].replaceAll('&amp;', '&');
    expect((await openLink(retry, fan)).status).toBe(200);
    expect((await rowOf(s.activity.id, fan)).poster).toMatch(/^[0-9a-f]{32}\.jpg$/);
  });

  it('stats: per-day series, tiers, depth and the leaderboard', async () => {
    const s = await setupActivity();
    const fan = uid('oT');
    await posterOf(await openLink(await join(s, fan), fan));
    const row = await rowOf(s.activity.id, fan);
    for (let i = 0; i < 2; i++) await fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene: `1_${row.id}` });
    const stats = await (await api(s.op, `/activities/${s.activity.id}/stats?days=7`)).json<any>();
    expect(stats.days).toHaveLength(7);
    expect(stats.today).toMatchObject({ participants: 1, assists: 2 });
    expect(stats.tiers.map((t: any) => t.completions)).toEqual([1, 1, 0]);
    expect(stats.depth).toEqual([{ level: 1, fans: 1 }, { level: 2, fans: 2 }]);
    expect(stats.leaderboard[0]).toMatchObject({ open_id: fan, number: 2 });
    expect((await api(s.op, `/activities/${s.activity.id}/stats?from=2026-01-10&to=2026-01-01`)).status).toBe(422);
  });
});

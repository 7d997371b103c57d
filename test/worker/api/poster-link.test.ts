/**
 * The fan's poster link: WeChat's web OAuth back to `/oauth/callback`, which renders the poster.
 * The way there when all goes well is task-e2e.test.ts; this file is what goes wrong and who may not.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeJpeg } from '../../../worker/poster/jpeg-decoder';
import { DEFAULT_LAYOUT } from '../../../worker/poster/layout';
import { api, pushTicket, sandbox, uid, worker } from '../helpers';
import { join, openLink, posterOf, rowOf, type Setup, setupActivity } from '../task-helpers';

beforeAll(async () => {
  await pushTicket();
});

/** The fan taps the link: WeChat's authorize page hands back a code; returns the worker's callback path. */
async function callbackOf(link: string, openId: string): Promise<string> {
  const authorize = new URL(link.replace(/#wechat_redirect$/, ''));
  authorize.searchParams.set('as', openId);
  const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
  return `${back.pathname}${back.search}`;
}

describe('happy', () => {
  it('a refresh of the poster page shows the poster again (the page keeps the fan’s session)', async () => {
    const s = await setupActivity();
    const fan = uid('oP');
    const callback = await callbackOf(await join(s, fan), fan);
    const first = await worker(callback);
    expect(first.status).toBe(200);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^fan=.+; Max-Age=86400; Path=\/; HttpOnly; Secure; SameSite=Lax/);
    const poster = await posterOf(first);

    // The refresh sends the same, now used, code: WeChat refuses it, the session vouches for the fan.
    const refresh = await worker(callback, { headers: { cookie: cookie.split(';')[0] } });
    expect(refresh.status).toBe(200);
    expect(await posterOf(refresh)).toBe(poster);
    // The same session does not open another fan's poster page.
    const other = uid('oQ');
    const otherCallback = await callbackOf(await join(s, other), other);
    expect((await worker(otherCallback)).status).toBe(200);
    const foreign = await worker(otherCallback, { headers: { cookie: cookie.split(';')[0] } });
    expect(foreign.status).toBe(400);
    expect(await foreign.text()).toContain('重新打开');
  });

  it('a layout or rule changed after the start re-renders the fan’s poster on their next visit', async () => {
    const s = await setupActivity();
    const fan = uid('oL');
    const link = await join(s, fan);
    const before = await posterOf(await openLink(link, fan));
    expect(await posterOf(await openLink(link, fan))).toBe(before);

    const layout = { ...s.activity.poster.layout, rule: { ...s.activity.poster.layout.rule, y: 600, color: '#000000' } };
    const edited = await api(s.op, `/activities/${s.activity.id}`, { method: 'PATCH', json: { poster: { layout } } });
    expect(edited.status, await edited.clone().text()).toBe(200);
    expect((await edited.json<any>()).poster.layout.rule).toMatchObject({ y: 600, color: '#000000' });
    const relaid = await posterOf(await openLink(link, fan));
    expect(relaid).not.toBe(before);

    await api(s.op, `/activities/${s.activity.id}`, { method: 'PATCH', json: { poster: { rule: '新的规则：邀请 5 位好友' } } });
    const reworded = await posterOf(await openLink(link, fan));
    expect(reworded).not.toBe(relaid);
    expect(await posterOf(await openLink(link, fan))).toBe(reworded);
  });
});

describe('error', () => {
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
});

describe('security', () => {
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
});

/** The avatar's square on the fan's poster, as decoded RGBA. */
async function posterAvatar(s: Setup, headimgurl: string): Promise<Uint8Array> {
  const fan = uid('oA');
  const link = await join(s, fan);
  // One nickname for every fan, so only the avatar can differ around it.
  await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: fan, headimgurl, nickname: '同一个昵称' });
  const poster = await worker(await posterOf(await openLink(link, fan)));
  const { pixels, width } = decodeJpeg(new Uint8Array(await poster.arrayBuffer()));
  const { x, y, size } = DEFAULT_LAYOUT.avatar;
  const out = new Uint8Array(size * size * 4);
  for (let row = 0; row < size; row++) out.set(pixels.subarray(((y + row) * width + x) * 4, ((y + row) * width + x + size) * 4), row * size * 4);
  return out;
}

const differs = (a: Uint8Array, b: Uint8Array) => a.findIndex((v, i) => v !== b[i]) !== -1;

describe('security: the fan’s avatar', () => {
  it('is fetched from WeChat’s avatar host only: anything else, a redirect off it, an endless body or a pixel bomb draws the default', async () => {
    const s = await setupActivity();
    const { elsewhere } = await sandbox<{ elsewhere: string }>('/__sandbox/avatar-requests');
    const wechat = env.SANDBOX_URL;
    const fallback = await posterAvatar(s, 'not a url');
    expect(differs(await posterAvatar(s, `${wechat}/sandbox/avatar/own.png`), fallback)).toBe(true);
    const hostile = [
      `${elsewhere}/sandbox/avatar/elsewhere.png`,
      `${wechat}/__sandbox/avatars/redirect?to=${encodeURIComponent(`${elsewhere}/sandbox/avatar/moved.png`)}`,
      `${wechat}/__sandbox/avatars/bomb.png`,
      `${wechat}/__sandbox/avatars/endless.png`,
    ];
    for (const url of hostile) expect(differs(await posterAvatar(s, url), fallback), url).toBe(false);
    const seen = await sandbox<{ requests: { host: string }[]; endlessBytes: number }>('/__sandbox/avatar-requests');
    expect(seen.requests.filter((r) => r.host === new URL(elsewhere).host)).toEqual([]);
    // Reading stops at the avatar byte cap (1 MB), not at the end of the 64 MB body.
    expect(seen.endlessBytes).toBeLessThan(16 * 1024 * 1024);
  });
});

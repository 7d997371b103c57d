/**
 * The fan's poster link: WeChat's web OAuth back to `/oauth/callback`, which renders the poster.
 * The way there when all goes well is task-e2e.test.ts; this file is what goes wrong and who may not.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { pushTicket, sandbox, uid, worker } from '../helpers';
import { join, openLink, rowOf, setupActivity } from '../task-helpers';

beforeAll(async () => {
  await pushTicket();
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

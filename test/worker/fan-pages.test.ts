import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { fanLink } from '../../worker/campaign/fan-access';
import { createServices } from '../../worker/services';
import { fanPush, pushTicket, sandbox, strictPage, uid, worker } from './helpers';
import { join, local, openLink, rowOf, setupActivity, throughOAuth } from './task-helpers';

beforeAll(async () => {
  await pushTicket();
});

describe('fans’ progress page', () => {
  it('opens for the fan WeChat confirms, then by session; shows count, rank, tiers and the poster', async () => {
    const s = await setupActivity();
    const owner = uid('oP');
    await openLink(await join(s, owner), owner);
    await fanPush(s.account, { type: 'subscribe', openId: uid('oH'), scene: `1_${(await rowOf(s.activity.id, owner)).id}` });
    const row = await rowOf(s.activity.id, owner);
    const link = local(await fanLink(createServices(env), 'progress', row.id, Date.now()));

    const confirmed = await throughOAuth(await worker(link), owner);
    expect(confirmed.status).toBe(303);
    expect(local(confirmed.headers.get('location')!)).toBe(link);
    const cookie = confirmed.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^fan=.+; Max-Age=86400; Path=\/; HttpOnly; Secure; SameSite=Lax/);
    const page = await worker(link, { headers: { cookie: cookie.split(';')[0] } });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('已有 1 位好友为你助力 · 第 1 名');
    expect(html).toContain('第一档 · 1 人 · 优惠券 ✓');
    expect(html).toContain('再邀请 1 人可得第二档【保温杯】');
    expect(html).toContain(`src="/posters/${row.poster}"`);
    // A tier is reached: the claim button leads to the claim page, signed for this fan.
    expect(html).toMatch(/<a class="button" href="https:\/\/mtb\.example\.test\/h5\/claim\?t=[^"]+">领取奖品<\/a>/);
  });

  it('lists the latest helpers and the leaderboard with masked nicknames, the fan as 我', async () => {
    const s = await setupActivity({ protect_switch: 2 });
    const [a, b] = [uid('oA'), uid('oB')];
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: a, nickname: '阿强' });
    await sandbox('/__sandbox/fans', { appid: s.account.appid, openid: b, nickname: '小红帽' });
    for (const fan of [a, b]) await openLink(await join(s, fan), fan);
    const scene = async (fan: string) => `1_${(await rowOf(s.activity.id, fan)).id}`;
    // B helps A (拉新保护 off: a known fan may help once), then two strangers help B.
    await fanPush(s.account, { type: 'subscribe', openId: b, scene: await scene(a) });
    for (const i of [1, 2]) await fanPush(s.account, { type: 'subscribe', openId: uid(`oS${i}`), scene: await scene(b) });
    const link = local(await fanLink(createServices(env), 'progress', (await rowOf(s.activity.id, a)).id, Date.now()));
    const cookie = (await throughOAuth(await worker(link), a)).headers.get('set-cookie')!.split(';')[0];
    const html = await (await worker(link, { headers: { cookie } })).text();
    const section = (title: string) =>
      html
        .slice(html.indexOf(`<h2>${title}</h2>`))
        .split('</ul>')[0]
        .split('</ol>')[0];
    expect(section('最近为你助力')).toMatch(/<li><span>小\*<\/span><time>\d{2}-\d{2} \d{2}:\d{2}<\/time><\/li>/);
    expect(section('排行榜')).toMatch(/<li class=""><span>1\. 小\*<\/span><span>2 人<\/span><\/li><li class="me"><span>2\. 我<\/span><span>1 人<\/span><\/li>/);
    expect(html).not.toContain('小红帽');
    expect(html).not.toContain(b);
  });

  it('shows a forwarded link’s stranger nothing, asks snapshot visitors to open WeChat, refuses tampering', async () => {
    const s = await setupActivity();
    const owner = uid('oP');
    await join(s, owner);
    const row = await rowOf(s.activity.id, owner);
    const link = local(await fanLink(createServices(env), 'progress', row.id, Date.now()));

    const stranger = await throughOAuth(await worker(link), uid('oS'));
    expect(stranger.status).toBe(403);
    expect(await stranger.text()).toContain('这不是你的链接');
    expect(stranger.headers.get('set-cookie')).toBeNull();

    const snapshot = await throughOAuth(await worker(link), owner, { snapshot: true });
    expect(snapshot.status).toBe(403);
    expect(await snapshot.text()).toContain('请在微信中打开');

    const tampered = await worker(link.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
    expect(tampered.status).toBe(400);
    // The claim page's link is no key to the progress page (each token names its page).
    const claimLink = local(await fanLink(createServices(env), 'claim', row.id, Date.now()));
    expect((await worker(claimLink.replace('/h5/claim', '/h5/progress'))).status).toBe(400);
  });

  it('a session opens only its own fan’s pages; a refreshed OAuth return asks WeChat again', async () => {
    const s = await setupActivity();
    const [a, b] = [uid('oA'), uid('oB')];
    await join(s, a);
    await join(s, b);
    const services = createServices(env);
    const linkA = local(await fanLink(services, 'progress', (await rowOf(s.activity.id, a)).id, Date.now()));
    const linkB = local(await fanLink(services, 'progress', (await rowOf(s.activity.id, b)).id, Date.now()));
    const confirmed = await throughOAuth(await worker(linkA), a);
    const cookieA = confirmed.headers.get('set-cookie')!.split(';')[0];
    expect((await worker(linkB, { headers: { cookie: cookieA } })).status).toBe(302);
    // The return URL with its (now used) code, reloaded: back to WeChat, not an error.
    const authorize = new URL((await worker(linkA)).headers.get('location')!.replace(/#wechat_redirect$/, ''));
    authorize.searchParams.set('as', a);
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    expect((await worker(`${back.pathname}${back.search}`)).status).toBe(303);
    const again = await worker(`${back.pathname}${back.search}`);
    expect(again.status).toBe(302);
    expect(again.headers.get('location')).toContain('/connect/oauth2/authorize');
  });
});

describe('security', () => {
  it('every fans’ page carries a strict Content-Security-Policy: the poster, the progress page, a refusal', async () => {
    const s = await setupActivity();
    const owner = uid('oP');
    const poster = await openLink(await join(s, owner), owner);
    expect(await strictPage(poster)).toContain('class="poster"');
    const row = await rowOf(s.activity.id, owner);
    const link = local(await fanLink(createServices(env), 'progress', row.id, Date.now()));
    const cookie = (await throughOAuth(await worker(link), owner)).headers.get('set-cookie')!.split(';')[0];
    expect(await strictPage(await worker(link, { headers: { cookie } }))).toContain('<progress');
    expect(await strictPage(await throughOAuth(await worker(link), uid('oS')))).toContain('这不是你的链接');
  });
});

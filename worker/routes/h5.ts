import { type Context, Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../app-env';
import { AddressForm, claimFormToken, claimView, isClaimFormToken } from '../campaign/claim';
import { admitFan, type FanPage, type FanRow } from '../campaign/fan-access';
import { progressPage } from '../campaign/progress-page';
import { tierName } from '../campaign/tiers';
import { saveAddress } from '../campaign/winners';
import { formatShanghai } from '../lib/time';
import { issuesToFields } from './api/openapi';
import { type AddressDraft, claimPage } from './claim-page';
import { fanSession, keepFanSession } from './fan-session';
import { copyingPolicy, messagePage, page } from './pages';

/**
 * Lets the fan in (admitFan) and renders `show` for them; otherwise redirects to WeChat's OAuth
 * or says why not. Every answer is personal: never cached.
 */
async function asFan(c: Context<AppEnv>, which: FanPage, show: (fan: FanRow) => Promise<Response>): Promise<Response> {
  c.header('cache-control', 'no-store');
  const admission = await admitFan(c.var.services, which, c.req.query(), fanSession(c), Date.now());
  switch (admission.kind) {
    case 'admitted':
      c.set('services', c.var.services.forShard(admission.shard));
      return show(admission.fan);
    case 'confirmed':
      keepFanSession(c, admission.session);
      return c.redirect(admission.location, 303);
    case 'authorize':
      return c.redirect(admission.location, 302);
    case 'refused':
      return c.html(messagePage(admission.title, admission.message), admission.status);
  }
}

/** The claim page for an admitted fan, with the form's token and, after a refused post, what they typed. */
async function showClaim(c: Context<AppEnv>, fan: FanRow, now: number, draft?: AddressDraft): Promise<Response> {
  const { db, config } = c.var.services;
  const props = {
    fan,
    view: await claimView(db, fan, now),
    formToken: await claimFormToken(config.sessionSecret, fan.row.id, now),
    action: `/h5/claim?t=${encodeURIComponent(c.req.query('t') ?? '')}`,
    redeemUrl: (code: string) => `${config.adminOrigin}/activities/${fan.activity.id}/winners?redeem=${encodeURIComponent(code)}`,
    saved: c.req.query('saved') === '1',
    draft,
  };
  c.header('content-security-policy', await copyingPolicy());
  return c.html(claimPage(props), draft ? 422 : 200);
}

/** Fans' own pages, reached from notices, the keywords' answers and the poster page. */
export const h5Routes = new Hono<AppEnv>()
  .get('/claim', (c) => asFan(c, 'claim', (fan) => showClaim(c, fan, Date.now())))
  .post('/claim', async (c) => {
    c.header('cache-control', 'no-store');
    const now = Date.now();
    // Only a fan already let in (their session cookie) may post; a post never starts WeChat's OAuth.
    const admission = await admitFan(c.var.services, 'claim', { t: c.req.query('t') }, fanSession(c), now);
    if (admission.kind !== 'admitted') return c.html(messagePage('请重新打开领奖页', '登录已过期，请从公众号消息里重新打开领奖页。'), 403);
    c.set('services', c.var.services.forShard(admission.shard));
    const { db, config } = c.var.services;
    const { fan } = admission;
    const form = Object.fromEntries([...(await c.req.formData()).entries()].map(([k, v]) => [k, typeof v === 'string' ? v : '']));
    if (!(await isClaimFormToken(config.sessionSecret, form.token ?? '', fan.row.id, now))) {
      return c.html(messagePage('页面已过期', '请刷新领奖页后重新提交。'), 403);
    }
    const parsed = AddressForm.safeParse(form);
    if (!parsed.success) return showClaim(c, fan, now, { winner: Number(form.winner), values: form, errors: issuesToFields(parsed.error.issues) });
    const { winner, ...contact } = parsed.data;
    if (!(await saveAddress(db, fan.activity.id, fan.row.id, winner, contact, now))) {
      return showClaim(c, fan, now, { winner, values: form, errors: { address: '这份奖品现在不能修改收货地址（已发货、核验中或已过领奖截止时间）。' } });
    }
    return c.redirect(`/h5/claim?t=${encodeURIComponent(c.req.query('t') ?? '')}&saved=1`, 303);
  })
  .get('/progress', (c) =>
    asFan(c, 'progress', async (fan) => {
      const { progress: p, helpers, leaders, claimUrl, waiting } = await progressPage(c.var.services, fan, Date.now());
      const top = Math.max(1, ...p.tiers.map((t) => t.number));
      return c.html(
        page(
          `${fan.activity.name} · 我的助力进度`,
          html`<h1>${fan.activity.name}</h1>
<p class="tip">已有 ${p.number} 位好友为你助力 · 第 ${p.rank} 名</p>
${waiting ? html`<p class="waiting">另有 ${waiting} 人待确认（好友关注满规定时长后计入）</p>` : ''}
<progress class="bar" max="${top}" value="${Math.min(p.number, top)}">${p.number} / ${top}</progress>
<ol class="tiers">${p.tiers.map((t) => html`<li class="${t.reached ? 'reached' : ''}">${tierName(t.level)} · ${t.number} 人 · ${t.good}${t.reached ? ' ✓' : ''}</li>`)}</ol>
<p>${p.nextStep}</p>
${claimUrl ? html`<p><a class="button" href="${claimUrl}">领取奖品</a></p>` : ''}
<h2>最近为你助力</h2>
${helpers.length ? html`<ul class="list helpers">${helpers.map((h) => html`<li><span>${h.name}</span><time>${formatShanghai(h.at).slice(5)}</time></li>`)}</ul>` : html`<p class="muted">还没有好友助力，快把海报分享出去吧。</p>`}
<h2>排行榜</h2>
${leaders.length ? html`<ol class="list leaders">${leaders.map((l, i) => html`<li class="${l.me ? 'me' : ''}"><span>${i + 1}. ${l.me ? '我' : l.name}</span><span>${l.number} 人</span></li>`)}</ol>` : html`<p class="muted">还没有人上榜。</p>`}
<p>活动截止：${formatShanghai(fan.activity.endTime)}</p>
${fan.row.poster ? html`<img class="poster" src="/posters/${fan.row.poster}" alt="我的专属海报"><p class="tip">长按图片保存，分享给好友</p>` : ''}`,
        ),
      );
    }),
  );

import { type Context, Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../app-env';
import { admitFan, type FanPage, type FanRow } from '../campaign/fan-access';
import { progressPage } from '../campaign/progress-page';
import { tierName } from '../campaign/tiers';
import { formatShanghai } from '../lib/time';
import { fanSession, keepFanSession } from './fan-session';
import { messagePage, page } from './pages';

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

/** Fans' own pages, reached from notices, the progress keyword's answer and the poster page. */
export const h5Routes = new Hono<AppEnv>().get('/progress', (c) =>
  asFan(c, 'progress', async (fan) => {
    const { progress: p, helpers, leaders, claimUrl } = await progressPage(c.var.services, fan, Date.now());
    const top = Math.max(1, ...p.tiers.map((t) => t.number));
    return c.html(
      page(
        `${fan.activity.name} · 我的助力进度`,
        html`<h1>${fan.activity.name}</h1>
<p class="tip">已有 ${p.number} 位好友为你助力 · 第 ${p.rank} 名</p>
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

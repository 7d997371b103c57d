import { type Context, Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../app-env';
import { admitFan, type FanPage, type FanRow } from '../campaign/fan-access';
import { fanProgress } from '../campaign/progress';
import { formatShanghai } from '../campaign/time';
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

/** Fans' own pages, reached from notices and the poster page. */
export const h5Routes = new Hono<AppEnv>().get('/progress', (c) =>
  asFan(c, 'progress', async (fan) => {
    const p = await fanProgress(c.var.services.db, fan);
    const top = Math.max(1, ...p.tiers.map((t) => t.number));
    return c.html(
      page(
        `${fan.activity.name} · 我的助力进度`,
        html`<h1>${fan.activity.name}</h1>
<p class="tip">已有 ${p.number} 位好友为你助力 · 第 ${p.rank} 名</p>
<progress class="bar" max="${top}" value="${Math.min(p.number, top)}">${p.number} / ${top}</progress>
<ol class="tiers">${p.tiers.map((t) => html`<li class="${t.reached ? 'reached' : ''}">第 ${t.level} 档 · ${t.number} 人 · ${t.good}${t.reached ? ' ✓' : ''}</li>`)}</ol>
<p>${p.next ? `再邀请 ${p.next.remaining} 人可得【${p.next.good}】` : '你已完成全部任务！'}</p>
<p>活动截止：${formatShanghai(fan.activity.endTime)}</p>
${fan.row.poster ? html`<img class="poster" src="/posters/${fan.row.poster}" alt="我的专属海报"><p class="tip">长按图片保存，分享给好友</p>` : ''}`,
      ),
    );
  }),
);

import { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../app-env';
import { page } from './pages';

/** What the worker serves, by path: the index lists it for whoever opens the worker's root. */
const SURFACES = [
  ['/api', '运营后台的 JSON API（需要登录），文档见 /api/openapi.json'],
  ['/wechat/component、/wechat/callback/{appid}', '微信第三方平台的推送（加密）'],
  ['/oauth/callback', '粉丝打开活动链接后看到的专属海报页'],
  ['/h5/progress', '粉丝的助力进度页（链接由公众号消息发出）'],
  ['/posters/…', '海报与推广码图片'],
] as const;

/**
 * The worker's root: a short index of what it serves and where the admin is. (Deployed on one
 * hostname with the admin, "/" goes to the admin; this is what `npm run dev` shows on :8787.)
 */
export const homeRoutes = new Hono<AppEnv>().get('/', (c) =>
  c.html(
    page(
      '任务宝 on the edge · worker',
      html`<h1>任务宝 on the edge</h1>
<p>这是任务宝的服务端（Cloudflare Worker），没有给人看的首页。运营后台在 <a href="${c.var.services.config.adminOrigin}">${c.var.services.config.adminOrigin}</a>。</p>
<dl class="surfaces">${SURFACES.map(([path, what]) => html`<dt><code>${path}</code></dt><dd>${what}</dd>`)}</dl>
<p><a class="button" href="/api/openapi.json">API 文档（OpenAPI）</a></p>`,
    ),
  ),
);

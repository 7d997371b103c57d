import { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../app-env';
import { openPosterLink } from '../campaign/poster-flow';
import { AppError } from '../errors';
import { fanSession, keepFanSession } from './fan-session';
import { messagePage, page } from './pages';

/** Fans' surfaces: the web-OAuth redirect that shows their poster. */
export const oauthRoutes = new Hono<AppEnv>().get('/callback', async (c) => {
  const result = await openPosterLink(c.var.services, c.req.query(), fanSession(c), Date.now());
  c.header('cache-control', 'no-store');
  if (result.kind === 'message') {
    return c.html(messagePage(result.title, result.message, result.retryUrl ? { href: result.retryUrl, label: '重新打开' } : undefined), result.status);
  }
  if (result.session) keepFanSession(c, result.session);
  return c.html(
    page(
      `${result.activity} · 我的专属海报`,
      html`<h1>${result.nickname} 的专属海报</h1><img class="poster" src="${result.url}" alt="我的专属海报"><p class="tip">长按图片保存，分享给好友</p><p>好友扫码关注即为你助力；在公众号回复“${result.progressKeyword}”也能随时查看进度。</p><p><a class="button" href="${result.progressUrl}">查看我的助力进度</a></p>`,
    ),
  );
});

/**
 * Rendered posters and promo QR codes: content-addressed, so cached forever. The key's group is
 * non-capturing because Hono's RegExpRouter refuses capturing ones, and the whole app would fall
 * back to the slower TrieRouter.
 */
export const posterRoutes = new Hono<AppEnv>().get('/:key{[0-9a-f]{32}\\.(?:jpg|png)}', async (c) => {
  const key = c.req.param('key');
  const obj = await c.var.services.posters.get(key, { onlyIf: c.req.raw.headers });
  if (!obj) throw new AppError('not_found', '图片不存在');
  const headers = { etag: obj.httpEtag, 'cache-control': 'public, max-age=31536000, immutable', 'content-type': obj.httpMetadata?.contentType ?? 'image/jpeg' };
  if (!('body' in obj)) return c.body(null, 304, headers);
  return c.body(obj.body, 200, headers);
});

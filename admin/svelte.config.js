import adapter from '@sveltejs/adapter-cloudflare';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

// `vite build` sets NODE_ENV=production before this file is read. In dev the WeChat sandbox (its
// authorization page, fans' avatars) is plain http on loopback; in production WeChat is https.
const dev = process.env.NODE_ENV !== 'production';
const loopback = dev ? ['http://127.0.0.1:*', 'http://localhost:*'] : [];

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter(),
    alias: {
      // The worker's poster geometry (canvas size, default layout): one source for both sides.
      '$poster-layout': '../worker/poster/layout.ts',
      // What prize kinds, prize statuses and logged actions are called: the API's words.
      $labels: '../worker/campaign/labels.ts',
      // The notices' scenes, variables, default texts and renderer: the form's live preview words
      // a notice exactly as the worker will.
      $notices: '../worker/messaging/notices.ts',
      // An activity's figures and a fan's progress, in the words every page and the CSV export use.
      $figures: '../worker/campaign/figures.ts',
      // Times as the product shows them (Asia/Shanghai, within its years): the worker's formatter.
      $time: '../worker/lib/time.ts',
    },
    // Scripts only from this origin and SvelteKit's own inline ones (hashed or nonce'd per page).
    // The one inline handler allowed is Svelte's `this.__e=event`, which server-rendered <img>s
    // with load/error handlers carry until hydration (by its hash, for attributes only).
    // style-src-attr allows style="" attributes (positions and bar widths the server renders),
    // not <style> elements. Images: fans' avatars come from WeChat's https hosts. Forms may lead
    // to WeChat's authorization page (授权公众号 redirects there). Nobody may frame the console.
    csp: {
      mode: 'auto',
      directives: {
        'default-src': ['self'],
        'script-src': ['self'],
        'script-src-attr': ['unsafe-hashes', 'sha256-7dQwUgLau1NFCCGjfn9FsYptB6ZtWxJin6VohGIu20I='],
        'style-src': ['self'],
        'style-src-attr': ['unsafe-inline'],
        'img-src': ['self', 'data:', 'blob:', 'https:', ...loopback],
        'font-src': ['self'],
        'connect-src': ['self'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'form-action': ['self', 'https://mp.weixin.qq.com', 'https://open.weixin.qq.com', ...loopback],
        'frame-ancestors': ['none'],
      },
    },
  },
};

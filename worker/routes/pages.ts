import type { MiddlewareHandler } from 'hono';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { toBase64, utf8 } from '../lib/bytes';

type Body = HtmlEscapedString | Promise<HtmlEscapedString>;

/** A small mobile page (fans' poster and error pages, the operator's authorization result). */
export function page(title: string, body: Body) {
  return html`<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">
<title>${title}</title>
<style>${raw(STYLE)}</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

const sha256 = async (text: string) => `'sha256-${toBase64(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text))))}'`;

let policies: Promise<{ plain: string; copying: string }> | undefined;

/**
 * The pages' Content-Security-Policy: images from this origin (posters), their one stylesheet by
 * its hash, and no script, but for a page with copy buttons (the claim page) their one script, by
 * its hash. Computed once per isolate (WebCrypto is asynchronous).
 */
function pagePolicies() {
  policies ??= Promise.all([sha256(STYLE), sha256(COPY_SCRIPT)]).then(([style, script]) => {
    const plain = `default-src 'none'; style-src ${style}; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`;
    return { plain, copying: `${plain}; script-src ${script}` };
  });
  return policies;
}

/** Puts the pages' policy on every HTML answer of the worker, whichever route made it, unless the route set the copying one. */
export function pageSecurity(): MiddlewareHandler {
  return async function pageSecurity(c, next) {
    await next();
    if (c.res.headers.get('content-type')?.startsWith('text/html') && !c.res.headers.has('content-security-policy')) {
      c.res.headers.set('content-security-policy', (await pagePolicies()).plain);
    }
  };
}

/** The policy of a page with copy buttons: the plain one, and their script by its hash. */
export const copyingPolicy = async () => (await pagePolicies()).copying;

/**
 * Copies a code shown in the element a `[data-copy]` button names, with the Clipboard API, or
 * selects it where that is missing (older WeChat).
 */
const COPY_SCRIPT = `document.addEventListener('click',function(e){var b=e.target.closest('[data-copy]');if(!b)return;var el=document.getElementById(b.getAttribute('data-copy'));var t=el.textContent;
function done(){b.textContent='已复制';}
if(navigator.clipboard){navigator.clipboard.writeText(t).then(done,function(){sel(el);});}else{sel(el);}
function sel(n){var r=document.createRange();r.selectNodeContents(n);var s=getSelection();s.removeAllRanges();s.addRange(r);try{document.execCommand('copy');done();}catch(_){}}});`;

/** The copy buttons' script, for a page served with {@link copyingPolicy}. */
export const copyScript = () => html`<script>${raw(COPY_SCRIPT)}</script>`;

/** A page that says what happened and what to do next. */
export function messagePage(title: string, message: string, action?: { href: string; label: string }) {
  return page(title, html`<h1>${title}</h1><p>${message}</p>${action ? html`<p><a class="button" href="${action.href}">${action.label}</a></p>` : ''}`);
}

const STYLE = `
body{margin:0;font-family:-apple-system,BlinkMacSystemFont,"PingFang SC","Noto Sans SC","Microsoft YaHei",sans-serif;background:#f4f5f7;color:#1f2329}
main{max-width:480px;margin:0 auto;padding:24px 16px;text-align:center}
h1{font-size:20px;margin:24px 0 12px}
p{line-height:1.6;color:#4e5969}
img.poster{width:100%;border-radius:8px;box-shadow:0 2px 12px rgba(0,0,0,.12)}
.tip{margin-top:12px;font-size:16px;color:#1f2329;font-weight:600}
a.button{display:inline-block;padding:10px 20px;border-radius:6px;background:#07c160;color:#fff;text-decoration:none}
progress.bar{display:block;width:100%;height:12px;margin:16px 0;border:0;border-radius:6px;overflow:hidden;background:#e5e6eb;-webkit-appearance:none;appearance:none}
progress.bar::-webkit-progress-bar{background:#e5e6eb}
progress.bar::-webkit-progress-value{background:#07c160}
progress.bar::-moz-progress-bar{background:#07c160}
ol.tiers{list-style:none;padding:0;text-align:left}
ol.tiers li{padding:8px 12px;margin:6px 0;border-radius:6px;background:#fff;color:#4e5969}
ol.tiers li.reached{color:#07c160;font-weight:600}
h2{font-size:16px;margin:24px 0 8px;text-align:left}
.muted{color:#86909c;font-size:14px;text-align:left}
.list{list-style:none;padding:0;margin:0;text-align:left;background:#fff;border-radius:8px}
.list li{display:flex;justify-content:space-between;padding:8px 12px;border-bottom:1px solid #f2f3f5;color:#4e5969}
.list li:last-child{border-bottom:0}
.list li.me{color:#07c160;font-weight:600}
section.prize h2{font-size:17px;margin:0 0 4px}
.waiting{color:#86560b}
.small{font-size:13px}
.notice{padding:10px 12px;border-radius:6px;background:#fff7e8;color:#86560b}
.ok{padding:10px 12px;border-radius:6px;background:#e8f8ef;color:#067a3d}
section.prize{background:#fff;border-radius:8px;padding:16px;margin:12px 0;text-align:left;box-shadow:0 1px 4px rgba(0,0,0,.06)}
section.prize .status{margin:0 0 8px;color:#07c160;font-weight:600}
.code{font-family:ui-monospace,Menlo,monospace;font-size:22px;letter-spacing:2px;color:#1f2329;word-break:break-all;margin:8px 0}
.code.small{font-size:15px;letter-spacing:0}
.qr svg{display:block;margin:8px auto;width:200px;height:200px}
button.button{border:0;font-size:16px;cursor:pointer;display:inline-block;padding:10px 20px;border-radius:6px;background:#07c160;color:#fff}
form.address label{display:block;margin:10px 0;color:#4e5969;font-size:14px}
form.address input,form.address textarea{display:block;box-sizing:border-box;width:100%;margin-top:4px;padding:10px;font-size:16px;border:1px solid #c9cdd4;border-radius:6px;font-family:inherit}
form.address .error{display:block;color:#e5484d;font-size:13px;margin-top:4px}
dl.surfaces{text-align:left;background:#fff;border-radius:8px;padding:12px 16px}
dl.surfaces dt{margin-top:8px}dl.surfaces dd{margin:2px 0 0;color:#4e5969}
`;

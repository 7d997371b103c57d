import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

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
.bar{height:12px;border-radius:6px;background:#e5e6eb;overflow:hidden;margin:16px 0}
.bar span{display:block;height:100%;background:#07c160}
ol.tiers{list-style:none;padding:0;text-align:left}
ol.tiers li{padding:8px 12px;margin:6px 0;border-radius:6px;background:#fff;color:#4e5969}
ol.tiers li.reached{color:#07c160;font-weight:600}
h2{font-size:17px;margin:0 0 4px}
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

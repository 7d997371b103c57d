/** The sandbox's "phone": a person plays fans of the sandbox accounts against the real worker. */
export const PHONE_PAGE = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>微信沙箱 · 手机</title>
<style>
body{margin:0;font-family:-apple-system,"PingFang SC","Noto Sans SC",sans-serif;background:#ededed}
.phone{max-width:420px;margin:0 auto;min-height:100vh;background:#f5f5f5;display:flex;flex-direction:column}
header{background:#2e2e2e;color:#fff;padding:12px;font-weight:600}
.bar{display:flex;gap:6px;padding:8px;flex-wrap:wrap;background:#fff;border-bottom:1px solid #ddd}
.bar select,.bar input{flex:1;min-width:120px;padding:6px}
#log{flex:1;padding:10px;overflow:auto}
.msg{margin:6px 0;padding:8px 10px;border-radius:6px;max-width:85%;word-break:break-all;white-space:pre-wrap}
.me{background:#95ec69;margin-left:auto}.them{background:#fff}.sys{color:#888;font-size:12px;text-align:center}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px}
.card a{color:#576b95}
footer{display:flex;gap:6px;padding:8px;background:#fff;border-top:1px solid #ddd}
footer input{flex:1;padding:8px}button{padding:6px 10px}
</style></head><body><div class="phone">
<header>微信沙箱 · 扮演粉丝</header>
<div class="bar"><select id="account"></select><input id="fan" placeholder="粉丝 openid"></div>
<div class="bar"><button id="follow">关注</button><button id="unfollow">取关</button><button id="scan">好友扫码助力…</button><button id="refresh">刷新消息</button></div>
<div id="log"></div>
<footer><input id="text" placeholder="发送消息（如活动关键词）"><button id="send">发送</button></footer>
</div>
<script>
const $ = (id) => document.getElementById(id);
const log = (cls, html) => { const d = document.createElement('div'); d.className = 'msg ' + cls; d.innerHTML = html; $('log').appendChild(d); $('log').scrollTop = 1e9; };
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
let seen = 0;
$('fan').value = localStorage.fan || 'o' + Math.random().toString(36).slice(2, 12);
const fan = () => { localStorage.fan = $('fan').value; document.cookie = 'sandbox_fan=' + encodeURIComponent($('fan').value) + ';path=/'; return $('fan').value; };
async function accounts() {
  const list = await (await fetch('/__sandbox/accounts')).json();
  $('account').innerHTML = list.map((a) => '<option value="' + a.appid + '">' + esc(a.nickName) + ' (' + a.appid + ')</option>').join('');
}
async function push(payload) {
  const r = await (await fetch('/__sandbox/phone/push', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appid: $('account').value, openid: fan(), ...payload }) })).json();
  if (r.reply) log('them', esc(r.reply));
  if (r.news) log('them card', '<b>' + esc(r.news.title) + '</b><br>' + esc(r.news.description) + '<br><a target="_blank" href="' + esc(r.news.url) + '">打开链接</a>');
  setTimeout(messages, 1500);
}
async function messages() {
  const list = await (await fetch('/__sandbox/messages?appid=' + $('account').value + '&touser=' + encodeURIComponent(fan()))).json();
  for (const m of list.slice(seen)) {
    if (m.msgtype === 'text') log('them', esc(m.body.text.content));
    else if (m.msgtype === 'news') { const a = m.body.news.articles[0]; log('them card', '<b>' + esc(a.title) + '</b><br>' + esc(a.description) + '<br><a target="_blank" href="' + esc(a.url) + '">打开链接</a>'); }
    else if (m.msgtype === 'template') log('them card', '<b>[模板消息]</b><br>' + Object.values(m.body.data).map((d) => esc(d.value)).join('<br>') + (m.body.url ? '<br><a target="_blank" href="' + esc(m.body.url) + '">详情</a>' : ''));
    else log('them', '[图片]');
  }
  seen = list.length;
}
$('send').onclick = () => { const t = $('text').value.trim(); if (!t) return; log('me', esc(t)); $('text').value = ''; push({ type: 'text', content: t }); };
$('follow').onclick = () => { log('sys', '关注公众号'); push({ type: 'subscribe' }); };
$('unfollow').onclick = () => { log('sys', '取消关注'); push({ type: 'unsubscribe' }); };
$('scan').onclick = async () => {
  const scene = prompt('海报二维码的场景值（scene_str，如 1_12；生成海报后在 /__sandbox/qrcodes 可查）');
  const n = Number(prompt('多少位新朋友扫码关注？', '3'));
  for (let i = 0; i < n; i++) {
    const friend = 'ofriend' + Math.random().toString(36).slice(2, 10);
    await fetch('/__sandbox/phone/push', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appid: $('account').value, openid: friend, type: 'subscribe', scene }) });
  }
  log('sys', n + ' 位好友扫码关注了 ' + scene);
  setTimeout(messages, 1500);
};
$('refresh').onclick = messages;
$('fan').onchange = () => { seen = 0; $('log').innerHTML = ''; messages(); };
accounts().then(messages);
</script></body></html>`;

/** The sandbox's "phone": a person plays a fan (and their friends) of the sandbox accounts against the real worker. */
export const PHONE_PAGE = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>微信沙箱 · 手机</title>
<style>
body{margin:0;font-family:-apple-system,"PingFang SC","Noto Sans SC",sans-serif;background:#ededed}
.phone{max-width:420px;margin:0 auto;min-height:100vh;background:#f5f5f5;display:flex;flex-direction:column}
header{background:#2e2e2e;color:#fff;padding:12px;font-weight:600}
.bar{display:flex;gap:6px;padding:8px;flex-wrap:wrap;background:#fff;border-bottom:1px solid #ddd;align-items:center}
.bar select,.bar input{flex:1;min-width:120px;padding:6px}
#log{flex:1;min-height:200px;padding:10px;overflow:auto}
.msg{margin:6px 0;padding:8px 10px;border-radius:6px;max-width:85%;word-break:break-all;white-space:pre-wrap}
.me{background:#95ec69;margin-left:auto}.them{background:#fff}.sys{color:#888;font-size:12px;text-align:center;max-width:none}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px}
.card a{color:#576b95}
footer{display:flex;gap:6px;padding:8px;background:#fff;border-top:1px solid #ddd}
footer input{flex:1;padding:8px}button{padding:6px 10px}
details{background:#fff;border-top:1px solid #ddd;padding:8px}
summary{cursor:pointer;font-weight:600}
.hint{color:#888;font-size:12px;margin:6px 0}
#friends{list-style:none;margin:6px 0 0;padding:0}
#friends li{display:flex;gap:6px;align-items:center;flex-wrap:wrap;padding:6px 0;border-bottom:1px solid #eee;font-size:13px}
#friends code{font-size:11px;color:#555}
.tag{font-size:11px;padding:1px 6px;border-radius:8px;background:#e8f7ee;color:#067a3d}.tag.off{background:#eee;color:#888}
.reply{flex-basis:100%;color:#555;font-size:12px}
</style></head><body><div class="phone">
<header>微信沙箱 · 扮演粉丝</header>
<div class="bar"><select id="account" aria-label="公众号"></select><input id="fan" placeholder="粉丝 openid" aria-label="粉丝 openid"></div>
<div class="bar"><button id="follow">关注</button><button id="unfollow">取关</button><button id="refresh">刷新消息</button></div>
<div id="log"></div>
<footer><input id="text" placeholder="发送消息（如活动关键词）" aria-label="消息"><button id="send">发送</button></footer>
<details id="friend-panel" open>
<summary>好友扫码助力</summary>
<p class="hint">先发送活动关键词并打开链接生成海报，海报的二维码就会出现在下面（最新的在最前）。好友是沙箱新造的粉丝，从未关注过公众号。</p>
<div class="bar"><select id="qr" aria-label="好友扫的二维码"></select><button id="qr-refresh">刷新二维码</button></div>
<div class="bar"><input id="count" type="number" min="1" max="20" value="1" aria-label="好友人数"><button id="scan">让新朋友扫码关注</button></div>
<ul id="friends"></ul>
<p class="hint">沙箱的数据（公众号、粉丝、消息、二维码、好友）在 npm run dev 下保存在 .wrangler/state/sandbox.json，重启后仍在；删除 .wrangler/state 即与本地数据库一起从头开始。</p>
</details>
</div>
<script>
const $ = (id) => document.getElementById(id);
const log = (cls, html) => { const d = document.createElement('div'); d.className = 'msg ' + cls; d.innerHTML = html; $('log').appendChild(d); $('log').scrollTop = 1e9; };
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const post = async (path, body) => (await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appid: $('account').value, ...body }) })).json();
let seen = 0;
$('fan').value = localStorage.fan || 'o' + Math.random().toString(36).slice(2, 12);
const fan = () => { localStorage.fan = $('fan').value; document.cookie = 'sandbox_fan=' + encodeURIComponent($('fan').value) + ';path=/'; return $('fan').value; };
async function accounts() {
  const list = await (await fetch('/__sandbox/accounts')).json();
  $('account').innerHTML = list.map((a) => '<option value="' + a.appid + '">' + esc(a.nickName) + ' (' + a.appid + ')</option>').join('');
}
async function push(payload) {
  const r = await post('/__sandbox/phone/push', { openid: fan(), ...payload });
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
const when = (ms) => new Date(ms).toLocaleTimeString('zh-CN', { hour12: false });
async function qrcodes() {
  const list = await (await fetch('/__sandbox/qrcodes?appid=' + $('account').value)).json();
  const label = (q) => (q.scene.startsWith('1_') ? '海报二维码 ' : q.scene.startsWith('2_') ? '推广码 ' : '二维码 ') + q.scene + ' · ' + when(q.createdAt) + ' 生成';
  $('qr').innerHTML = list.length ? list.map((q) => '<option value="' + esc(q.scene) + '">' + esc(label(q)) + '</option>').join('') : '<option value="">还没有二维码：先生成海报</option>';
}
async function friends() {
  const list = await (await fetch('/__sandbox/phone/friends?appid=' + $('account').value)).json();
  $('friends').innerHTML = list.map((f) =>
    '<li><code>' + esc(f.openid) + '</code> 扫了 ' + esc(f.scene) + ' <span class="tag' + (f.following ? '' : ' off') + '">' + (f.following ? '关注中' : '已取关') + '</span>' +
    '<button data-openid="' + esc(f.openid) + '" data-scene="' + esc(f.scene) + '" data-action="' + (f.following ? 'unsubscribe' : 'subscribe') + '">' + (f.following ? '让 TA 取关' : '让 TA 再扫码关注') + '</button>' +
    (f.reply ? '<span class="reply">公众号回复 TA：' + esc(f.reply) + '</span>' : '') + '</li>').join('');
}
$('send').onclick = () => { const t = $('text').value.trim(); if (!t) return; log('me', esc(t)); $('text').value = ''; push({ type: 'text', content: t }); };
$('text').onkeydown = (e) => { if (e.key === 'Enter') $('send').onclick(); };
$('follow').onclick = () => { log('sys', '关注公众号'); push({ type: 'subscribe' }); };
$('unfollow').onclick = () => { log('sys', '取消关注'); push({ type: 'unsubscribe' }); };
$('refresh').onclick = () => { messages(); qrcodes(); friends(); };
$('qr-refresh').onclick = qrcodes;
$('scan').onclick = async () => {
  const scene = $('qr').value;
  if (!scene) return alert('先生成海报：发送活动关键词，打开链接');
  const made = await post('/__sandbox/phone/friends', { scene, count: Number($('count').value) || 1 });
  if (!Array.isArray(made)) return alert(made.errmsg || '扫码失败');
  log('sys', made.length + ' 位新朋友扫码关注了 ' + scene);
  friends();
  setTimeout(messages, 1500);
};
$('friends').onclick = async (e) => {
  const b = e.target.closest('button');
  if (!b) return;
  await post('/__sandbox/phone/push', { openid: b.dataset.openid, type: b.dataset.action, scene: b.dataset.action === 'subscribe' ? b.dataset.scene : undefined });
  log('sys', b.dataset.openid + (b.dataset.action === 'subscribe' ? ' 再次扫码关注了 ' + b.dataset.scene : ' 取消了关注'));
  friends();
  setTimeout(messages, 1500);
};
$('fan').onchange = () => { seen = 0; $('log').innerHTML = ''; messages(); };
$('account').onchange = () => { seen = 0; $('log').innerHTML = ''; messages(); qrcodes(); friends(); };
accounts().then(() => { messages(); qrcodes(); friends(); });
</script></body></html>`;

/** What the worker calls on an authorized account's behalf: QR codes, customer-service messages, media; and the images WeChat serves. */
import { type Context, Hono } from 'hono';
import qrcode from 'qrcode-generator';
import { avatarPng } from './png';
import type { SandboxState } from './state';
import { body, err, gate } from './wechat-api';

/** `/cgi-bin/qrcode/create`, `/cgi-bin/showqrcode`, `/cgi-bin/message/custom/send`, `/cgi-bin/media/upload`, `/sandbox/avatar/:name`. */
export function authorizerApp(state: SandboxState) {
  const app = new Hono();
  const authorizerOk = (c: Context) => state.checkToken(c.req.query('access_token'), 'authorizer');

  app.post('/cgi-bin/qrcode/create', async (c) => {
    const g = await gate(state, c, 'qrcode/create');
    if (g) return g;
    const t = authorizerOk(c);
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    const a = state.accounts.get(t.token!.appid)!;
    if (a.serviceType !== 2 || a.verifyType < 0) return c.json(err(48001, 'api unauthorized'));
    const b = await body(c);
    const scene = b.action_info?.scene?.scene_str;
    if (typeof scene !== 'string' || scene.length < 1 || scene.length > 64) return c.json(err(40097, 'invalid args: scene_str'));
    const permanent = b.action_name === 'QR_LIMIT_STR_SCENE';
    if (!permanent && b.action_name !== 'QR_STR_SCENE') return c.json(err(40097, 'invalid action_name'));
    const expire = permanent ? null : Math.min(Number(b.expire_seconds) || 60, 2_592_000);
    const ticket = state.id('gQ');
    const url = `http://weixin.qq.com/q/${ticket}`;
    state.qrcodes.set(ticket, { appid: a.appid, scene, expiresAt: expire ? Date.now() + expire * 1000 : null, url, createdAt: Date.now() });
    return c.json({ ticket, url, ...(expire ? { expire_seconds: expire } : {}) });
  });

  app.get('/cgi-bin/showqrcode', (c) => {
    const q = state.qrcodes.get(c.req.query('ticket') ?? '');
    if (!q) return c.json(err(40097, 'invalid ticket'), 404);
    const qr = qrcode(0, 'M');
    qr.addData(q.url);
    qr.make();
    const gif = qr.createDataURL(8, 16).split(',')[1];
    return c.body(new Uint8Array(Buffer.from(gif, 'base64')), 200, { 'content-type': 'image/gif' });
  });

  app.post('/cgi-bin/message/custom/send', async (c) => {
    const g = await gate(state, c, 'message/custom/send');
    if (g) return g;
    const t = authorizerOk(c);
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    const b = await body(c);
    const appid = t.token!.appid;
    if (typeof b.touser !== 'string' || !['text', 'news', 'image'].includes(b.msgtype)) return c.json(err(40008, 'invalid message type'));
    if (b.msgtype === 'news' && b.news?.articles?.length !== 1) return c.json(err(45008, 'article size out of limit'));
    const f = state.fan(appid, b.touser);
    if (!f.following) return c.json(err(43004, 'require subscribe'));
    const refused = state.spendSend(f);
    if (refused === 45015) return c.json(err(45015, 'response out of time limit or subscription is canceled'));
    if (refused === 45047) return c.json(err(45047, 'out of response count limit'));
    state.sent.push({ appid, touser: b.touser, msgtype: b.msgtype, body: b, at: Date.now() });
    return c.json(err(0, 'ok'));
  });

  app.post('/cgi-bin/media/upload', async (c) => {
    const g = await gate(state, c, 'media/upload');
    if (g) return g;
    const t = authorizerOk(c);
    if (t.errcode) return c.json(err(t.errcode, t.errmsg));
    const form = await c.req.parseBody();
    const media = form.media;
    if (!(media instanceof File)) return c.json(err(41005, 'media data missing'));
    const id = state.id('media_');
    state.media.set(id, { appid: t.token!.appid, bytes: media.size });
    return c.json({ type: c.req.query('type') ?? 'image', media_id: id, created_at: Math.floor(Date.now() / 1000) });
  });

  app.get('/sandbox/avatar/:name', (c) => {
    state.avatarRequests.push({ host: c.req.header('host') ?? '', path: c.req.path });
    return c.body(new Uint8Array(avatarPng(c.req.param('name'))), 200, { 'content-type': 'image/png', 'cache-control': 'max-age=86400' });
  });

  return app;
}

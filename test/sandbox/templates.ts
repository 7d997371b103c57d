import { type Context, Hono } from 'hono';
import type { PrivateTemplate } from '../../worker/wechat/authorizer';
import type { SandboxState, TemplateJob } from './state';
import { body, err, gate } from './wechat-api';

/** Templates in WeChat's library, by the short id `api_add_template` takes; fields as `{{KEY.DATA}}`. */
export const TEMPLATE_LIBRARY: Record<string, Omit<PrivateTemplate, 'template_id'>> = {
  '43216': {
    title: '助力成功通知',
    primary_industry: 'IT科技',
    deputy_industry: '互联网|电子商务',
    content: '活动名称：{{thing1.DATA}}\n助力人数：{{number2.DATA}}\n获得奖品：{{thing3.DATA}}',
    example: '活动名称：邀好友领好礼\n助力人数：3\n获得奖品：定制帆布袋',
  },
  '47325': {
    title: '活动即将结束提醒',
    primary_industry: 'IT科技',
    deputy_industry: '互联网|电子商务',
    content: '活动名称：{{thing1.DATA}}\n结束时间：{{time2.DATA}}\n温馨提示：{{thing3.DATA}}',
    example: '活动名称：邀好友领好礼\n结束时间：2026-11-30 20:00\n温馨提示：再邀请 2 人可得保温杯',
  },
  '42987': {
    title: '奖品发货通知',
    primary_industry: 'IT科技',
    deputy_industry: '互联网|电子商务',
    content: '奖品名称：{{thing1.DATA}}\n快递公司：{{thing2.DATA}}\n快递单号：{{character_string3.DATA}}',
    example: '奖品名称：保温杯\n快递公司：顺丰速运\n快递单号：SF1234567890',
  },
};

/** The most templates an account may hold. */
const MAX_TEMPLATES = 25;
/** WeChat's default daily quota of template messages per account. */
export const TEMPLATE_DAILY_QUOTA = 100_000;

/** msgids are numbers; one per send. */
let sends = 0;

/** The `{{KEY.DATA}}` fields of a template's content. */
const fieldsOf = (content: string) => [...content.matchAll(/\{\{(\w+)\.DATA\}\}/g)].map((m) => m[1]);

/**
 * WeChat's template message APIs (WECHAT.md "Template messages"): an account's templates (list,
 * add from the library, delete; at most 25), and `message/template/send` with its errcodes: 48001
 * for accounts that are not verified service accounts, 43004 for fans who do not follow, 40037
 * for a template the account does not have, 47003 for fields the template lacks or a `thing`
 * value over 20 characters, 45009 past the day's quota. Each send is recorded, and its receipt
 * says `success`, or `failed:user block` for a fan who refuses the account's templates; with
 * `pushReceipt` (dev) it is pushed to the worker as WeChat does.
 */
export function templateApp(state: SandboxState, pushReceipt?: (appid: string, job: TemplateJob) => Promise<unknown>) {
  const app = new Hono();
  /** The account behind the authorizer token, or WeChat's refusal. */
  const account = (c: Context) => {
    const t = state.checkToken(c.req.query('access_token'), 'authorizer');
    if (t.errcode) return { refusal: c.json(err(t.errcode, t.errmsg)) };
    const a = state.accounts.get(t.token!.appid)!;
    if (a.serviceType !== 2 || a.verifyType < 0) return { refusal: c.json(err(48001, 'api unauthorized')) };
    return { appid: a.appid };
  };
  const templatesOf = (appid: string) => state.templates.get(appid) ?? [];

  app.get('/cgi-bin/template/get_all_private_template', async (c) => {
    const g = await gate(state, c, 'template/get_all_private_template');
    if (g) return g;
    const a = account(c);
    if (a.refusal) return a.refusal;
    return c.json({ template_list: templatesOf(a.appid) });
  });

  app.post('/cgi-bin/template/api_add_template', async (c) => {
    const g = await gate(state, c, 'template/api_add_template');
    if (g) return g;
    const a = account(c);
    if (a.refusal) return a.refusal;
    const b = await body(c);
    const found = TEMPLATE_LIBRARY[String(b.template_id_short ?? '')];
    if (!found) return c.json(err(40037, 'invalid template_id'));
    const list = templatesOf(a.appid);
    if (list.length >= MAX_TEMPLATES) return c.json(err(45026, 'template num exceeds limit'));
    const template_id = state.id('tpl_');
    state.templates.set(a.appid, [...list, { template_id, ...found }]);
    return c.json({ ...err(0, 'ok'), template_id });
  });

  app.post('/cgi-bin/template/del_private_template', async (c) => {
    const g = await gate(state, c, 'template/del_private_template');
    if (g) return g;
    const a = account(c);
    if (a.refusal) return a.refusal;
    const b = await body(c);
    const list = templatesOf(a.appid);
    if (!list.some((t) => t.template_id === b.template_id)) return c.json(err(40037, 'invalid template_id'));
    state.templates.set(
      a.appid,
      list.filter((t) => t.template_id !== b.template_id),
    );
    return c.json(err(0, 'ok'));
  });

  app.post('/cgi-bin/message/template/send', async (c) => {
    const g = await gate(state, c, 'message/template/send');
    if (g) return g;
    const a = account(c);
    if (a.refusal) return a.refusal;
    const b = await body(c);
    if (typeof b.touser !== 'string' || !b.data || typeof b.data !== 'object') return c.json(err(47001, 'data format error'));
    const template = templatesOf(a.appid).find((t) => t.template_id === b.template_id);
    if (!template) return c.json(err(40037, 'invalid template_id'));
    const fan = state.fan(a.appid, b.touser);
    if (!fan.following) return c.json(err(43004, 'require subscribe'));
    const fields = fieldsOf(template.content);
    for (const [key, v] of Object.entries(b.data as Record<string, { value?: unknown }>)) {
      const value = typeof v?.value === 'string' ? v.value : '';
      if (!fields.includes(key) || (key.startsWith('thing') && [...value].length > 20))
        return c.json(err(47003, `argument invalid! data.${key}.value invalid`));
    }
    const left = state.templateQuota.get(a.appid) ?? TEMPLATE_DAILY_QUOTA;
    if (left <= 0) return c.json(err(45009, 'reach max api daily quota limit'));
    state.templateQuota.set(a.appid, left - 1);
    const msgid = String(Date.now() * 1000 + (sends++ % 1000));
    const job = {
      msgid,
      appid: a.appid,
      touser: b.touser,
      status: fan.blocksTemplates ? ('failed:user block' as const) : ('success' as const),
      at: Date.now(),
    };
    state.templateJobs.push(job);
    state.sent.push({ appid: a.appid, touser: b.touser, msgtype: 'template', body: b, at: job.at });
    if (pushReceipt) setTimeout(() => pushReceipt(a.appid, job).catch((e) => console.error('sandbox: receipt push failed', e)), 200);
    return c.json({ ...err(0, 'ok'), msgid: Number(msgid) });
  });

  /** Control surface: the receipts WeChat owes the worker, and an account's remaining daily quota. */
  app.get('/__sandbox/template-jobs', (c) => {
    const { appid, touser } = c.req.query();
    return c.json(state.templateJobs.filter((j) => (!appid || j.appid === appid) && (!touser || j.touser === touser)));
  });
  app.post('/__sandbox/template-quota', async (c) => {
    const b = await body(c);
    state.templateQuota.set(String(b.appid), Number(b.left));
    return c.json({ ok: true });
  });
  return app;
}

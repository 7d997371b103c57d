import { error, fail, redirect } from '@sveltejs/kit';
import { api, load as apiLoad, call } from '$lib/server/api';
import { text } from '$lib/server/forms';
import { backTo } from '$lib/url';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
  const client = api(event);
  const { appid } = event.params;
  const { items } = await apiLoad(event, client.GET('/accounts'));
  const account = items.find((a) => a.appid === appid);
  if (!account) error(404, '公众号不存在');
  // WeChat may refuse (an account that cannot use templates): the page says why instead of failing.
  const templates = await call(event, client.GET('/accounts/{appid}/templates', { params: { path: { appid } } }));
  const list = templates.ok ? templates.data.items : [];
  const remove = event.url.searchParams.get('delete');
  return {
    account,
    templates: list,
    problem: templates.ok ? null : templates.message,
    toDelete: list.find((t) => t.template_id === remove) ?? null,
    deleted: event.url.searchParams.get('deleted'),
  };
}) satisfies PageServerLoad;

export const actions = {
  add: async (event) => {
    const form = await event.request.formData();
    const shortId = text(form, 'template_id_short');
    const r = await call(
      event,
      api(event).POST('/accounts/{appid}/templates', { params: { path: { appid: event.params.appid } }, body: { template_id_short: shortId } }),
    );
    if (!r.ok) return fail(r.status, { shortId, error: r.fields.template_id_short ?? r.message });
    return { done: `已添加模板（${r.data.template_id}），现在可以在活动的“通知文案”里选用它。` };
  },
  delete: async (event) => {
    const form = await event.request.formData();
    const r = await call(
      event,
      api(event).DELETE('/accounts/{appid}/templates/{template_id}', {
        params: { path: { appid: event.params.appid, template_id: text(form, 'template_id') } },
      }),
    );
    if (!r.ok) return fail(r.status, { error: `删除失败：${r.message}` });
    redirect(303, backTo(event.url, ['delete'], { deleted: text(form, 'title') }));
  },
} satisfies Actions;

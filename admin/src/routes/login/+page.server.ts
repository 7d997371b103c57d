import { fail, redirect } from '@sveltejs/kit';
import { api, call, SESSION_COOKIE, setSession } from '$lib/server/api';
import { safeNext, text } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load = (async ({ cookies, url }) => {
  if (cookies.get(SESSION_COOKIE)) redirect(303, safeNext(url.searchParams.get('next')));
  return { registered: url.searchParams.has('registered') };
}) satisfies PageServerLoad;

export const actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const username = text(form, 'username');
    const password = form.get('password')?.toString() ?? '';
    if (!username || !password) {
      return fail(400, { username, message: '请输入用户名和密码', fields: {} as Record<string, string> });
    }
    const r = await call(event, api(event).POST('/session', { body: { username, password } }), { loginOn401: false });
    if (!r.ok) {
      const message = r.status === 401 ? '用户名或密码错误，请重新输入' : r.status === 429 ? '登录尝试过多，请稍等几分钟再试' : r.message;
      return fail(r.status, { username, message, fields: r.fields });
    }
    setSession(event.cookies, r.data.token ?? '');
    redirect(303, safeNext(event.url.searchParams.get('next')));
  },
} satisfies Actions;

import type { Account } from '$lib/api/types';
import type { TemplateChoice } from '$lib/notices-form';
import { api, call } from './api';

type Event = Parameters<typeof api>[0];

/**
 * The template messages the notices editor offers: those of the operator's accounts that can
 * send them (authorized, verified service accounts), read from WeChat. An account WeChat does
 * not answer for is listed with the reason, and the form still works.
 */
export async function templateChoices(event: Event, accounts: Account[]): Promise<TemplateChoice[]> {
  const usable = accounts.filter((a) => a.authorized && a.qr_capable);
  return Promise.all(
    usable.map(async (a) => {
      const r = await call(event, api(event).GET('/accounts/{appid}/templates', { params: { path: { appid: a.appid } } }));
      return r.ok ? { appid: a.appid, nick_name: a.nick_name, items: r.data.items } : { appid: a.appid, nick_name: a.nick_name, items: [], error: r.message };
    }),
  );
}

import { fail, redirect } from '@sveltejs/kit';
import { api, load as apiLoad, call } from '$lib/server/api';
import { text } from '$lib/server/forms';
import { oneOf, str } from '$lib/server/query';
import { backTo } from '$lib/url';
import type { Actions, PageServerLoad } from './$types';

const PAGE_SIZE = 20;
const KINDS = ['code', 'shipping', 'onsite'] as const;
const STATUSES = ['won', 'claimed', 'fulfilled', 'void', 'held'] as const;

function idOf(params: { id: string }) {
  const id = Number(params.id);
  return Number.isInteger(id) && id > 0 ? id : 0;
}

/** The winners list's filters, read from the URL; the same set drives the CSV export. */
function filtersOf(url: URL) {
  const level = oneOf(url, 'level', ['1', '2', '3'] as const);
  return { level: level ? Number(level) : undefined, kind: oneOf(url, 'kind', KINDS), status: oneOf(url, 'status', STATUSES), q: str(url, 'q') };
}

export const load = (async (event) => {
  const id = idOf(event.params);
  const filters = filtersOf(event.url);
  const cursor = str(event.url, 'cursor');
  const client = api(event);
  const [activity, winners] = await Promise.all([
    apiLoad(event, client.GET('/activities/{id}', { params: { path: { id } } })),
    apiLoad(
      event,
      client.GET('/activities/{id}/winners', { params: { path: { id }, query: { ...filters, ...(cursor ? { cursor } : {}), page_size: PAGE_SIZE } } }),
    ),
  ]);
  const exportQuery = new URLSearchParams(Object.entries(filters).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])));
  return {
    activity,
    winners,
    filters,
    // A staff phone scanning a fan's claim QR lands here with the code filled in.
    redeem: str(event.url, 'redeem') ?? '',
    erasing: event.url.searchParams.has('erase'),
    exportHref: `/api/activities/${id}/winners/export${exportQuery.size ? `?${exportQuery}` : ''}`,
  };
}) satisfies PageServerLoad;

/** A pasted list or an uploaded file (.txt / .csv): its non-blank lines, with their line numbers. */
async function listLines(form: FormData, field: string, file: string): Promise<{ text: string; line: number }[]> {
  const upload = form.get(file);
  const raw = upload instanceof File && upload.size > 0 ? await upload.text() : text(form, field);
  return raw
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((t, i) => ({ text: t.split(',')[0].trim(), line: i + 1 }))
    .filter((l) => l.text !== '');
}

async function csvText(form: FormData): Promise<string> {
  const upload = form.get('file');
  return upload instanceof File && upload.size > 0 ? upload.text() : text(form, 'csv');
}

export const actions = {
  redeem: async (event) => {
    const code = text(await event.request.formData(), 'code');
    if (!code) return fail(422, { redeem: { ok: false, code, message: '请输入或扫描核销码' } });
    const r = await call(event, api(event).POST('/redeem', { body: { code } }));
    if (!r.ok) return fail(r.status, { redeem: { ok: false, code, message: r.status === 404 ? '没有这个核销码（或不属于你的活动）' : r.message } });
    return {
      redeem: {
        ok: true,
        code: r.data.code ?? code,
        message: `核销成功：第 ${r.data.level} 档「${r.data.good}」${r.data.nickname ? ` · ${r.data.nickname}` : ''}`,
      },
    };
  },
  ship: async (event) => {
    const form = await event.request.formData();
    const winner = Number(text(form, 'id'));
    const r = await call(
      event,
      api(event).POST('/winners/{id}/ship', {
        params: { path: { id: winner } },
        body: { company: text(form, 'company'), tracking_no: text(form, 'tracking_no') },
      }),
    );
    if (!r.ok) return fail(r.status, { ship: { id: winner, message: Object.values(r.fields)[0] ?? r.message } });
    return { done: `已发货，并通知了中奖粉丝。` };
  },
  shipCsv: async (event) => {
    const csv = await csvText(await event.request.formData());
    const r = await call(event, api(event).POST('/activities/{id}/winners/ship', { params: { path: { id: idOf(event.params) } }, body: { csv } }));
    if (!r.ok) return fail(r.status, { shipCsv: { shipped: 0, errors: [{ line: 0, message: Object.values(r.fields)[0] ?? r.message }] } });
    return { shipCsv: r.data };
  },
  importCodes: async (event) => {
    const form = await event.request.formData();
    const level = Number(text(form, 'level'));
    const lines = await listLines(form, 'codes', 'file');
    if (!lines.length) return fail(422, { codes: { level, message: '请粘贴兑换码或选择文件（每行一个）', errors: [] } });
    const r = await call(
      event,
      api(event).POST('/activities/{id}/awards/{level}/codes', {
        params: { path: { id: idOf(event.params), level } },
        body: { codes: lines.map((l) => l.text) },
      }),
    );
    if (!r.ok) {
      // The API names bad codes by their index in the list; the operator knows them by line.
      const errors = Object.entries(r.fields).map(([key, message]) => ({ line: lines[Number(key.split('.')[1])]?.line ?? 0, message }));
      return fail(r.status, {
        codes: { level, message: errors.length ? '有几行兑换码不合格，请修改后重新导入（本次没有导入任何兑换码）' : r.message, errors },
      });
    }
    return { codes: { level, message: `导入 ${r.data.added} 个，重复跳过 ${r.data.duplicates} 个；这一档现有 ${r.data.available} 个未发出。`, errors: [] } };
  },
  erase: async (event) => {
    const r = await call(event, api(event).POST('/activities/{id}/winners/erase-contacts', { params: { path: { id: idOf(event.params) } } }));
    if (!r.ok) return fail(r.status, { message: r.message });
    redirect(303, backTo(event.url, ['erase'], { erased: String(r.data.erased) }));
  },
} satisfies Actions;

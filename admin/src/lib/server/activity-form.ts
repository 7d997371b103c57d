import { fail } from '@sveltejs/kit';
import { type ActivityFormValues, activityValues, cloneLayout, newActivityValues, TIER_ROWS } from '$lib/activity-form';
import type { Activity, ActivityInput, PosterLayout, PrizeKind, Upload } from '$lib/api/types';
import { fromLocalInput } from '$lib/format';
import { noticesBody, readNotices } from '$lib/notices-form';
import { type ApiFailure, apiFetch, loginRedirect } from './api';
import { text } from './forms';

type Errors = Record<string, string>;
type Event = Parameters<typeof apiFetch>[0];

/** Reads the posted create/edit form back into form state (to re-render it on errors). */
export function readActivityForm(form: FormData): ActivityFormValues {
  const layout = cloneLayout(newActivityValues().layout);
  for (const [part, props] of Object.entries(layout) as [keyof PosterLayout, Record<string, number | string>][]) {
    for (const [prop, fallback] of Object.entries(props)) {
      const raw = text(form, `layout.${part}.${prop}`);
      if (raw === '') continue;
      props[prop] = typeof fallback === 'number' ? (Number.isFinite(Number(raw)) ? Number(raw) : fallback) : raw;
    }
  }
  return {
    name: text(form, 'name'),
    start_time: text(form, 'start_time'),
    end_time: text(form, 'end_time'),
    protect_switch: text(form, 'protect_switch') === '2' ? '2' : '1',
    unsubscribe_deduct: form.get('unsubscribe_deduct') === 'on',
    publics: form.getAll('publics').map(String),
    awards: Array.from({ length: TIER_ROWS }, (_, i) => ({
      number: text(form, `awards.${i}.number`),
      good: text(form, `awards.${i}.good`),
      stock: text(form, `awards.${i}.stock`),
      kind: prizeKind(text(form, `awards.${i}.kind`)),
    })),
    claim_deadline: text(form, 'claim_deadline'),
    end_when_gone: form.get('end_when_gone') === 'on',
    risk: { burst_count: text(form, 'risk.burst_count'), burst_seconds: text(form, 'risk.burst_seconds'), stay_hours: text(form, 'risk.stay_hours') },
    key_word: text(form, 'poster.key_word'),
    rule: text(form, 'poster.rule'),
    background_img: text(form, 'poster.background_img'),
    background_url: text(form, 'background_url'),
    layout,
    notices: readNotices(form),
  };
}

const INT = /^\d+$/;
const KINDS: PrizeKind[] = ['code', 'shipping', 'onsite'];
const prizeKind = (v: string): PrizeKind => (KINDS.includes(v as PrizeKind) ? (v as PrizeKind) : 'onsite');

/** The claim settings and 防刷 rules as the API takes them (an empty field turns it off). */
function claimAndRisk(v: ActivityFormValues, errors: Errors) {
  const rule = (name: keyof ActivityFormValues['risk']) => {
    const raw = v.risk[name];
    if (raw && !INT.test(raw)) errors[`risk.${name}`] = '请填写正整数，不用这条规则请留空';
    return raw && INT.test(raw) ? Number(raw) : null;
  };
  return {
    claim_deadline: v.claim_deadline ? fromLocalInput(v.claim_deadline) : null,
    end_when_gone: v.end_when_gone,
    risk: { burst_count: rule('burst_count'), burst_seconds: rule('burst_seconds'), stay_hours: rule('stay_hours') },
  };
}

/**
 * The API body for the form, with the form's own messages for what only a form can get wrong
 * (blank or non-numeric numbers, which reach the API as null and fail there too). `rows[i]` is the
 * form row of `awards[i]`, since blank tier rows are left out and the API reports errors by index.
 */
export function activityBody(v: ActivityFormValues): { body: ActivityInput; rows: number[]; errors: Errors } {
  const errors: Errors = {};
  const rows: number[] = [];
  const awards: ActivityInput['awards'] = [];
  v.awards.forEach((a, i) => {
    if (!a.number && !a.good && !a.stock) return;
    if (!a.number) errors[`awards.${i}.number`] = '请填写助力人数';
    else if (!INT.test(a.number)) errors[`awards.${i}.number`] = '助力人数须为正整数';
    if (a.stock && !INT.test(a.stock)) errors[`awards.${i}.stock`] = '库存须为整数，不限库存请留空';
    rows.push(i);
    awards.push({ level: i + 1, number: Number(a.number), good: a.good, stock: a.stock ? Number(a.stock) : null, kind: a.kind });
  });
  if (!v.start_time) errors.start_time = '请选择开始时间';
  if (!v.end_time) errors.end_time = '请选择结束时间';
  const body: ActivityInput = {
    name: v.name,
    start_time: fromLocalInput(v.start_time),
    end_time: fromLocalInput(v.end_time),
    protect_switch: v.protect_switch === '2' ? 2 : 1,
    unsubscribe_deduct: v.unsubscribe_deduct,
    publics: v.publics,
    awards,
    ...claimAndRisk(v, errors),
    poster: { background_img: v.background_img, key_word: v.key_word, rule: v.rule, layout: v.layout },
    notices: noticesBody(v.notices),
  };
  return { body, rows, errors };
}

/**
 * What may still change once an activity has started (PRODUCT §2.1): name, end time, rule,
 * poster layout, prizes and stock, the claim settings, the notices and the 防刷 rules. The form
 * disables the rest, so they are not posted at all; `values` is the posted form completed from
 * the activity, to re-render it if the API refuses.
 */
export function startedPatch(posted: ActivityFormValues, current: Activity) {
  const base = activityValues(current);
  const v: ActivityFormValues = {
    ...base,
    name: posted.name,
    end_time: posted.end_time,
    rule: posted.rule,
    layout: posted.layout,
    awards: base.awards.map((w, i) => (w.number ? { ...w, good: posted.awards[i].good, stock: posted.awards[i].stock } : w)),
    claim_deadline: posted.claim_deadline,
    end_when_gone: posted.end_when_gone,
    risk: posted.risk,
    notices: posted.notices,
  };
  const errors: Errors = {};
  if (!v.end_time) errors.end_time = '请选择结束时间';
  const awards = current.awards.map((w) => {
    const row = v.awards[w.level - 1] ?? { good: '', stock: '' };
    if (row.stock && !INT.test(row.stock)) errors[`awards.${w.level - 1}.stock`] = '库存须为整数，不限库存请留空';
    return { level: w.level, number: w.number, good: row.good, stock: row.stock ? Number(row.stock) : null, kind: w.kind };
  });
  const body = {
    name: v.name,
    end_time: fromLocalInput(v.end_time),
    poster: { rule: v.rule, layout: v.layout },
    awards,
    ...claimAndRisk(v, errors),
    notices: noticesBody(v.notices),
  };
  return { body, rows: current.awards.map((w) => w.level - 1), errors, values: v };
}

/** The API's field errors, keyed by the form's field names (award rows re-mapped). */
export function formErrors(fields: Errors, rows: number[]): Errors {
  const out: Errors = {};
  for (const [key, message] of Object.entries(fields)) {
    const m = /^awards\.(\d+)(\..+)?$/.exec(key);
    const mapped = m ? `awards.${rows[Number(m[1])] ?? m[1]}${m[2] ?? '.number'}` : key.startsWith('poster.layout') ? 'poster.layout' : key;
    out[mapped] ??= message;
  }
  return out;
}

/**
 * The 4xx/5xx of a create or edit, with the form re-filled and errors next to their fields; the
 * form's own messages (`local`) replace the API's for the same field.
 */
export function formFailure(values: ActivityFormValues, r: ApiFailure, rows: number[], local: Errors = {}) {
  const errors = { ...formErrors(r.fields, rows), ...local };
  const message = Object.keys(errors).length ? '有几处需要修改，请查看标红的字段' : r.message;
  return fail(r.status, { values, errors, message });
}

/**
 * Without JavaScript the background arrives with the form; it is uploaded here, server-side.
 * (With JavaScript the page uploads it directly, with progress, and posts only the key.)
 */
export async function uploadPostedBackground(event: Event, form: FormData, values: ActivityFormValues): Promise<Errors> {
  const file = form.get('background_file');
  if (!(file instanceof File) || file.size === 0) return {};
  const body = new FormData();
  body.set('file', file, file.name);
  let res: Response;
  try {
    res = await apiFetch(event, '/uploads', { method: 'POST', body });
  } catch {
    return { 'poster.background_img': '无法连接后台服务，图片未上传，请稍后重试' };
  }
  if (res.status === 401) loginRedirect(event);
  if (!res.ok) {
    const e = (await res.json().catch(() => ({}))) as { error?: { message?: string; fields?: Errors } };
    return { 'poster.background_img': e.error?.fields?.file ?? e.error?.message ?? `图片上传失败（HTTP ${res.status}），请重新选择图片` };
  }
  const upload = (await res.json()) as Upload;
  values.background_img = upload.key;
  values.background_url = upload.url;
  return {};
}

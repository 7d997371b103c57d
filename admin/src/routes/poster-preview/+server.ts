import { error } from '@sveltejs/kit';
import { apiFetch, loginRedirect } from '$lib/server/api';
import type { RequestHandler } from './$types';

/**
 * The poster preview as an image URL, so the create form can show it with a plain <img> (also
 * after a no-JS submit): GET parameters → the API's POST /posters/preview → JPEG.
 */
export const GET: RequestHandler = async (event) => {
  const q = event.url.searchParams;
  const background = q.get('bg');
  if (!background) error(400, '请先上传海报背景图');
  let layout: unknown;
  try {
    layout = JSON.parse(q.get('layout') ?? '{}');
  } catch {
    error(400, '海报布局参数有误');
  }
  const res = await apiFetch(event, '/posters/preview', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ background_img: background, rule: (q.get('rule') ?? '').slice(0, 256), layout }),
  }).catch(() => error(503, '无法连接后台服务，预览暂不可用'));
  if (res.status === 401) loginRedirect(event);
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    error(res.status, body.error?.message ?? '预览生成失败，请稍后重试');
  }
  const headers = new Headers({ 'content-type': res.headers.get('content-type') ?? 'image/jpeg', 'cache-control': 'private, no-store' });
  // How the rule was set (shrunk to fit, or cut): the designer tells the operator.
  for (const name of ['x-rule-font-size', 'x-rule-fits']) headers.set(name, res.headers.get(name) ?? '');
  return new Response(res.body, { headers });
};

import type { Handle, HandleServerError } from '@sveltejs/kit';

/**
 * Headers on every answer of the console, beside the Content-Security-Policy that SvelteKit sets
 * from kit.csp (svelte.config.js): no framing (older browsers ignore frame-ancestors), no MIME
 * sniffing, and no console URL (with its filters and ids) in the Referer sent to other sites.
 */
export const handle: Handle = async ({ event, resolve }) => {
  const response = await resolve(event);
  response.headers.set('x-frame-options', 'DENY');
  response.headers.set('x-content-type-options', 'nosniff');
  response.headers.set('referrer-policy', 'same-origin');
  return response;
};

/** Unexpected failures: logged with their detail here, shown to the operator in Chinese without it. */
export const handleError: HandleServerError = ({ error, event, status }) => {
  if (status !== 404) console.error(`${event.request.method} ${event.url.pathname} failed:`, error);
  return { message: status === 404 ? '页面不存在' : '服务器内部错误，请稍后刷新重试' };
};

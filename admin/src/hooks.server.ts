import type { HandleServerError } from '@sveltejs/kit';

/** Unexpected failures: logged with their detail here, shown to the operator in Chinese without it. */
export const handleError: HandleServerError = ({ error, event, status }) => {
  if (status !== 404) console.error(`${event.request.method} ${event.url.pathname} failed:`, error);
  return { message: status === 404 ? '页面不存在' : '服务器内部错误，请稍后刷新重试' };
};

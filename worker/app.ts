import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from './app-env';
import { AppError, ERROR_STATUS, type ErrorCode } from './errors';
import { api } from './routes/api';
import { oauthRoutes, posterRoutes } from './routes/fans';
import { h5Routes } from './routes/h5';
import { homeRoutes } from './routes/home';
import { pageSecurity } from './routes/pages';
import { wechatRoutes } from './routes/wechat';
import { createServices } from './services';
import { WeChatApiError } from './wechat/api';
import { WeChatCryptoError } from './wechat/crypto';
import { XmlError } from './wechat/xml';

/** Maps any thrown error onto the one error type; unknown errors become a bare 500. */
export function toAppError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  if (e instanceof WeChatCryptoError) return new AppError('unauthorized', `签名或解密校验失败: ${e.message}`);
  if (e instanceof XmlError) return new AppError(e.message === 'body too large' ? 'payload_too_large' : 'bad_request', `消息格式错误: ${e.message}`);
  if (e instanceof WeChatApiError) return new AppError('wechat_error', `微信接口错误 ${e.errcode}: ${e.errmsg}`);
  if (e instanceof HTTPException) {
    const code = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((k) => ERROR_STATUS[k] === e.status && k !== 'validation_failed') ?? 'bad_request';
    return new AppError(code, code === 'bad_request' ? '请求体格式错误（需要合法的 JSON）' : e.message);
  }
  return new AppError('internal', '服务器内部错误，请稍后重试');
}

/** Builds the worker's Hono app: services on `c.var`, the surfaces, one error handler. */
export function createApp() {
  const app = new Hono<AppEnv>();
  app.use('*', secureHeaders({ crossOriginResourcePolicy: 'cross-origin' }));
  app.use('*', pageSecurity());
  app.use('*', async function services(c, next) {
    c.set('services', createServices(c.env));
    await next();
  });
  app.route('/wechat', wechatRoutes);
  app.route('/oauth', oauthRoutes);
  app.route('/h5', h5Routes);
  app.route('/posters', posterRoutes);
  app.route('/api', api);
  app.route('/', homeRoutes);
  app.notFound(() => {
    throw new AppError('not_found', '页面不存在');
  });
  app.onError((err, c) => {
    const e = toAppError(err);
    if (e.status >= 500 && !(err instanceof AppError)) console.error(err);
    return c.json(e.toJSON(), e.status);
  });
  return app;
}

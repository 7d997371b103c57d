import { createRoute, z } from '@hono/zod-openapi';
import { canCreateQr, Flag } from '../../db/values';
import { type Account, listAccounts, startAuthorization } from '../../platform/accounts';
import { createApi, errorResponses, security } from './openapi';

export const AccountSchema = z
  .object({
    id: z.number().int(),
    appid: z.string(),
    nick_name: z.string(),
    user_name: z.string(),
    head_img: z.string(),
    service_type: z.number().int().openapi({ description: '0/1 订阅号，2 服务号' }),
    verify_type: z.number().int().openapi({ description: '-1 未认证，0 及以上为已认证' }),
    principal_name: z.string(),
    qr_capable: z.boolean().openapi({ description: '能否生成带参数二维码（仅认证服务号）' }),
    authorized: z.boolean(),
    authorized_at: z.string(),
    revoked_at: z.string().nullable(),
  })
  .openapi('Account');

const list = createRoute({
  method: 'get',
  path: '/accounts',
  summary: '当前运营账号授权的公众号',
  security,
  responses: {
    200: { description: '公众号列表', content: { 'application/json': { schema: z.object({ items: z.array(AccountSchema) }) } } },
    ...errorResponses(401),
  },
});

const authorize = createRoute({
  method: 'post',
  path: '/accounts/authorize',
  summary: '获取公众号授权页链接',
  security,
  responses: {
    200: {
      description: '授权页（PC）与移动端授权链接',
      content: { 'application/json': { schema: z.object({ url: z.string(), mobile_url: z.string() }).openapi('AuthorizeLink') } },
    },
    ...errorResponses(401, 502),
  },
});

/** An account as the API shows it: never its tokens. */
function presentAccount(a: Account): z.infer<typeof AccountSchema> {
  return {
    id: a.id,
    appid: a.authorizerAppid,
    nick_name: a.nickName,
    user_name: a.userName,
    head_img: a.headImg,
    service_type: a.serviceType,
    verify_type: a.verifyType,
    principal_name: a.principalName,
    qr_capable: canCreateQr(a),
    authorized: a.authorized === Flag.yes,
    authorized_at: new Date(a.authorizedAt).toISOString(),
    revoked_at: a.revokedAt ? new Date(a.revokedAt).toISOString() : null,
  };
}

export const accountsApi = createApi()
  .openapi(list, async (c) => c.json({ items: (await listAccounts(c.var.services.db, c.var.user.id)).map(presentAccount) }, 200))
  .openapi(authorize, async (c) => {
    const { home, wechat, config } = c.var.services;
    return c.json(await startAuthorization(home, wechat, c.var.user.id, config.publicBaseUrl), 200);
  });

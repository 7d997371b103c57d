import { createRoute, z } from '@hono/zod-openapi';
import { desc, eq } from 'drizzle-orm';
import { schema } from '../../db/client';
import { accountView, startAuthorization } from '../../platform/accounts';
import { WeChatService } from '../../platform/wechat-service';
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

export const accountsApi = createApi()
  .openapi(list, async (c) => {
    const rows = await c.var.db
      .select()
      .from(schema.publicNumbers)
      .where(eq(schema.publicNumbers.userId, c.var.user.id))
      .orderBy(desc(schema.publicNumbers.authorizedAt));
    return c.json({ items: rows.map(accountView) }, 200);
  })
  .openapi(authorize, async (c) => {
    const links = await startAuthorization(c.var.db, new WeChatService(c.env), c.var.user.id, c.var.config.publicBaseUrl);
    return c.json(links, 200);
  });

import { createRoute, z } from '@hono/zod-openapi';
import { createPromo, deletePromo, getPromo, listPromos, type PromoSummary, printablePromoQr, renamePromo } from '../../campaign/promos';
import { promoScene } from '../../campaign/scene';
import { isoShanghai } from '../../campaign/time';
import { PRINT_SIZES, type PrintSize } from '../../poster/print-qr';
import { createApi, errorResponses, IdParam, json, security } from './openapi';

const PromoSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    account: z.object({ appid: z.string(), nick_name: z.string() }),
    scene: z.string(),
    qr_url: z.string().nullable(),
    created_at: z.string(),
    followers: z.number().int(),
    following: z.number().int(),
    unfollowed: z.number().int(),
  })
  .openapi('Promo');
const PromoDetail = PromoSchema.extend({ days: z.array(z.object({ date: z.string(), followers: z.number().int(), unfollows: z.number().int() })) }).openapi(
  'PromoDetail',
);
/** A channel as the API shows it. */
function presentPromo(p: PromoSummary): z.infer<typeof PromoSchema> {
  return {
    id: p.promo.id,
    name: p.promo.name,
    account: { appid: p.appid, nick_name: p.accountName },
    scene: promoScene(p.promo.id),
    qr_url: p.promo.qr ? `/posters/${p.promo.qr}` : null,
    created_at: isoShanghai(p.promo.createdAt),
    followers: p.followers,
    following: p.following,
    unfollowed: p.followers - p.following,
  };
}

const presentDetail = (p: Awaited<ReturnType<typeof getPromo>>): z.infer<typeof PromoDetail> => ({ ...presentPromo(p), days: p.days });

const Name = z.string().trim().min(1, '请填写渠道名称').max(16, '渠道名称最多 16 个字');

export const promosApi = createApi()
  .openapi(
    createRoute({
      method: 'get',
      path: '/promos',
      summary: '推广码列表',
      security,
      request: {
        query: z.object({
          q: z.string().max(32).optional(),
          account: z.string().max(64).optional(),
          page: z.coerce.number().int().min(1).max(100_000).default(1),
          page_size: z.coerce.number().int().min(1).max(100).default(20),
        }),
      },
      responses: {
        200: {
          description: '推广码',
          ...json(z.object({ items: z.array(PromoSchema), total: z.number().int(), page: z.number().int(), page_size: z.number().int() })),
        },
        ...errorResponses(401, 422),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { items, total } = await listPromos(c.var.services.db, c.var.user.id, { q: q.q, account: q.account, page: q.page, pageSize: q.page_size });
      return c.json({ items: items.map(presentPromo), total, page: q.page, page_size: q.page_size }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/promos',
      summary: '新建推广码（永久二维码）',
      security,
      request: { body: { required: true, ...json(z.object({ name: Name, account: z.string().min(1, '请选择公众号').max(64) }).openapi('PromoInput')) } },
      responses: { 201: { description: '已创建', ...json(PromoDetail) }, ...errorResponses(401, 422, 502) },
    }),
    async (c) => {
      const { name, account } = c.req.valid('json');
      const id = await createPromo(c.var.services, c.var.user.id, name, account);
      return c.json(presentDetail(await getPromo(c.var.services.db, c.var.user.id, id)), 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/promos/{id}',
      summary: '推广码详情与每日关注统计',
      security,
      request: { params: IdParam },
      responses: { 200: { description: '推广码', ...json(PromoDetail) }, ...errorResponses(401, 404) },
    }),
    async (c) => c.json(presentDetail(await getPromo(c.var.services.db, c.var.user.id, c.req.valid('param').id)), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/promos/{id}/qr',
      summary: '下载推广码打印图（二维码下方印渠道名称，按打印尺寸）',
      security,
      request: {
        params: IdParam,
        query: z.object({
          size: z
            .enum(PRINT_SIZES.map(String) as [`${PrintSize}`, ...`${PrintSize}`[]])
            .default('8')
            .openapi({ description: `二维码边长（厘米）：${PRINT_SIZES.join(' / ')}；PNG 里记录了打印分辨率` }),
        }),
      },
      responses: { 200: { description: 'PNG', content: { 'image/png': { schema: z.any() } } }, ...errorResponses(401, 404, 422) },
    }),
    async (c) => {
      const cm = Number(c.req.valid('query').size) as PrintSize;
      const { name, png } = await printablePromoQr(c.var.services.db, c.var.user.id, c.req.valid('param').id, cm);
      const filename = `推广码-${name}-${cm}cm.png`;
      return c.body(png as Uint8Array<ArrayBuffer>, 200, {
        'content-type': 'image/png',
        'cache-control': 'private, no-store',
        'content-disposition': `attachment; filename="promo-${cm}cm.png"; filename*=UTF-8''${encodeURIComponent(filename)}`,
      });
    },
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/promos/{id}',
      summary: '修改推广码名称',
      security,
      request: { params: IdParam, body: { required: true, ...json(z.object({ name: Name })) } },
      responses: { 200: { description: '已修改', ...json(PromoDetail) }, ...errorResponses(401, 404, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await renamePromo(c.var.services.db, c.var.user.id, id, c.req.valid('json').name);
      return c.json(presentDetail(await getPromo(c.var.services.db, c.var.user.id, id)), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/promos/{id}',
      summary: '删除推广码（二维码在微信仍有效，之后的关注记为已删除渠道）',
      security,
      request: { params: IdParam },
      responses: { 204: { description: '已删除' }, ...errorResponses(401, 404) },
    }),
    async (c) => {
      await deletePromo(c.var.services.db, c.var.user.id, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

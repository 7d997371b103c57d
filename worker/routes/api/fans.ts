import { createRoute, z } from '@hono/zod-openapi';
import { decodeCursor } from '../../campaign/cursor';
import { exportFans, listFans, setBlacklist, TOTAL_CAP, type FanFilters } from '../../campaign/fans';
import { createApi, errorResponses, json, security } from './openapi';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const Filters = z.object({
  activity: z.coerce.number().int().positive().optional(),
  account: z.string().max(64).optional(),
  promo: z.coerce.number().int().positive().optional(),
  origin: z.enum(['poster', 'promo', 'other']).optional(),
  following: bool.optional(),
  black: bool.optional(),
  progress: z.coerce.number().int().min(0).max(3).optional(),
  q: z.string().max(64).optional(),
});
const FanSchema = z
  .object({
    id: z.number().int(),
    open_id: z.string(),
    nick_name: z.string().nullable(),
    avatar: z.string().nullable(),
    account: z.object({ appid: z.string(), nick_name: z.string() }),
    activity: z.object({ id: z.number().int(), name: z.string() }).nullable().openapi({ description: '为 null：只通过推广码关注、还没有参与活动的粉丝' }),
    origin: z.number().int().openapi({ description: '0 好友海报，1 推广码，2 其他' }),
    origin_label: z.string(),
    level: z.number().int(),
    number: z.number().int(),
    task_progress: z.number().int(),
    following: z.boolean(),
    black: z.boolean(),
    part_in: z.number().int(),
    ctime: z.string(),
    subscribe_time: z.string().nullable(),
  })
  .openapi('Fan');
const filtersOf = (q: z.infer<typeof Filters>): FanFilters => q;
const PageQuery = Filters.extend({
  cursor: z
    .string()
    .max(64)
    .transform((s, ctx) => decodeCursor(s) ?? (ctx.addIssue({ code: 'custom', message: '翻页游标无效，请从第一页重新翻页' }), z.NEVER))
    .optional()
    .openapi({ description: '上一次返回的 next_cursor 或 prev_cursor（深翻页用它，每页一样快）', type: 'string' }),
  page: z.coerce.number().int().min(1).optional().openapi({ description: `页码（按偏移跳页，只到第 ${TOTAL_CAP} 条为止），默认 1` }),
  page_size: z.coerce.number().int().min(1).max(100).default(20),
})
  .refine((q) => !(q.cursor && q.page), { path: ['page'], message: 'page 与 cursor 只能给一个' })
  .refine((q) => ((q.page ?? 1) - 1) * q.page_size < TOTAL_CAP, { path: ['page'], message: `页码超出范围：按页码只能翻到第 ${TOTAL_CAP} 条，更深请用 cursor` });

export const fansApi = createApi()
  .openapi(
    createRoute({
      method: 'get',
      path: '/fans',
      summary: '参与粉丝',
      security,
      request: { query: PageQuery },
      responses: {
        200: {
          description: '粉丝',
          ...json(
            z.object({
              items: z.array(FanSchema),
              total: z.number().int().openapi({ description: `匹配数，最多计到 ${TOTAL_CAP}；在第一页（无 cursor）时计数，cursor 带到后续各页` }),
              total_capped: z.boolean().openapi({ description: `为 true 时实际匹配数超过 ${TOTAL_CAP}` }),
              page: z.number().int(),
              page_size: z.number().int(),
              next_cursor: z.string().nullable().openapi({ description: '下一页（更早的粉丝）；没有时为 null' }),
              prev_cursor: z.string().nullable().openapi({ description: '上一页（更新的粉丝）；没有时为 null' }),
            }),
          ),
        },
        ...errorResponses(401, 422),
      },
    }),
    async (c) => {
      const { cursor, page, page_size, ...filters } = c.req.valid('query');
      return c.json(await listFans(c.var.db, c.var.user.id, filtersOf(filters), cursor ? { cursor } : { page: page ?? 1 }, page_size), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/fans/blacklist',
      summary: '加入或移出黑名单（可批量）',
      security,
      request: { body: { required: true, ...json(z.object({ ids: z.array(z.number().int().positive()).min(1, '请选择粉丝').max(500, '一次最多 500 个'), black: z.boolean() })) } },
      responses: { 200: { description: '已更新', ...json(z.object({ updated: z.number().int() })) }, ...errorResponses(401, 404, 409, 422) },
    }),
    async (c) => {
      const { ids, black } = c.req.valid('json');
      return c.json({ updated: await setBlacklist(c.var.db, c.env, c.var.user.id, ids, black) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/fans/export',
      summary: '导出筛选后的粉丝（CSV，流式）',
      security,
      request: { query: Filters },
      responses: { 200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } }, ...errorResponses(401, 422) },
    }),
    async (c) => {
      const stream = exportFans(c.var.db, c.var.user.id, filtersOf(c.req.valid('query')));
      return c.body(stream, 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="fans-${new Date().toISOString().slice(0, 10)}.csv"`,
      });
    },
  );

import { createRoute, z } from '@hono/zod-openapi';
import { audit } from '../../campaign/audit';
import { type FanFilters, type FanRow, fanPages, listFans, setBlacklist, TOTAL_CAP } from '../../campaign/fans';
import { FIGURES, NO_NICKNAME, progressLabel } from '../../campaign/figures';
import { isoShanghai, shanghaiDate } from '../../campaign/time';
import { Flag, Looking, Origin } from '../../db/values';
import { formatShanghai } from '../../lib/time';
import { csvStream } from './csv';
import { CursorParam, createApi, errorResponses, json, security } from './openapi';

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
    activity: z
      .object({ id: z.number().int(), name: z.string(), deleted: z.boolean() })
      .nullable()
      .openapi({ description: '为 null：只通过推广码关注、还没有参与活动的粉丝' }),
    origin: z.number().int().openapi({ description: '0 好友海报，1 推广码，2 其他' }),
    origin_label: z.string(),
    level: z.number().int(),
    number: z
      .number()
      .int()
      .openapi({ description: `${FIGURES.assists_net.label}：这位粉丝的海报得到、仍然计入的助力` }),
    assist_counted: z
      .boolean()
      .nullable()
      .openapi({ description: `好友海报带来的粉丝（来源 0）为好友的助力是否仍计入（取关扣助力后为 false）；其他粉丝为 null` }),
    task_progress: z.number().int(),
    following: z.boolean(),
    black: z.boolean(),
    part_in: z.number().int(),
    ctime: z.string(),
    subscribe_time: z.string().nullable(),
  })
  .openapi('Fan');
const filtersOf = (q: z.infer<typeof Filters>): FanFilters => q;

function originLabel(r: FanRow): string {
  if (r.row.origin === Origin.poster) return `${r.inviterName || '好友'} 的海报`;
  if (r.row.origin === Origin.promo) return r.promoName ? `推广码：${r.promoName}${r.promoDeleted ? '（已删除）' : ''}` : '推广码';
  return '其他';
}

/** A fan row as the API shows it. */
function presentFan(r: FanRow): z.infer<typeof FanSchema> {
  return {
    id: r.row.id,
    open_id: r.row.openId,
    nick_name: r.row.nickName,
    avatar: r.row.avatar,
    account: { appid: r.appid, nick_name: r.accountName },
    activity: r.row.activityId === null ? null : { id: r.row.activityId, name: r.activityName ?? '', deleted: r.activityDeleted !== null },
    origin: r.row.origin,
    origin_label: originLabel(r),
    level: r.row.level,
    number: r.row.number,
    assist_counted: r.row.origin === Origin.poster ? r.row.assistCounted === Flag.yes : null,
    task_progress: r.row.taskProgress,
    following: r.row.looking === Looking.following,
    black: r.row.black === Flag.yes,
    part_in: r.row.partIn,
    ctime: isoShanghai(r.row.ctime),
    subscribe_time: r.row.subscribeTime ? isoShanghai(r.row.subscribeTime) : null,
  };
}

const CSV_COLUMNS = [
  'ID',
  '昵称',
  'OpenID',
  '公众号',
  '活动',
  '来源',
  '层级',
  FIGURES.assists_net.label,
  '为好友助力',
  '任务进度',
  '关注状态',
  '黑名单',
  '参与时间',
  '关注时间',
] as const;

/** A fan's line in the CSV export, in the admin's words and Beijing time. */
function csvLine(r: FanRow): unknown[] {
  const v = presentFan(r);
  return [
    v.id,
    v.nick_name ?? NO_NICKNAME,
    v.open_id,
    v.account.nick_name,
    v.activity ? `${v.activity.name}${v.activity.deleted ? '（已删除）' : ''}` : '未参与活动',
    v.origin_label,
    v.level,
    v.number,
    v.assist_counted === null ? '' : v.assist_counted ? '计入' : '已扣除',
    progressLabel(v.task_progress),
    v.following ? '关注中' : '已取关',
    v.black ? '是' : '否',
    formatShanghai(r.row.ctime),
    r.row.subscribeTime ? formatShanghai(r.row.subscribeTime) : '',
  ];
}
const PageQuery = Filters.extend({
  cursor: CursorParam,
  page: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .openapi({ description: `页码（按偏移跳页，只到第 ${TOTAL_CAP} 条为止），默认 1` }),
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
              total: z
                .number()
                .int()
                .openapi({ description: `匹配数，最多计到 ${TOTAL_CAP}；在第一页（无 cursor）时计数，cursor 带到后续各页` }),
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
      const result = await listFans(c.var.services.db, c.var.user.id, filtersOf(filters), cursor ? { cursor } : { page: page ?? 1 }, page_size);
      return c.json({ ...result, items: result.items.map(presentFan) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/fans/blacklist',
      summary: '加入或移出黑名单（可批量）',
      security,
      request: {
        body: {
          required: true,
          ...json(z.object({ ids: z.array(z.number().int().positive()).min(1, '请选择粉丝').max(500, '一次最多 500 个'), black: z.boolean() })),
        },
      },
      responses: { 200: { description: '已更新', ...json(z.object({ updated: z.number().int() })) }, ...errorResponses(401, 404, 409, 422) },
    }),
    async (c) => {
      const { ids, black } = c.req.valid('json');
      const changed = await setBlacklist(c.var.services, c.var.user.id, ids, black);
      const now = Date.now();
      for (const group of changed) {
        const entry = {
          action: black ? 'fans.blacklist' : 'fans.unblacklist',
          activityId: group.activityId,
          target: `${group.ids.length} 位粉丝`,
          detail: { ids: group.ids },
        } as const;
        await audit(c.var.services.db, c.var.user, entry, now);
      }
      return c.json({ updated: changed.reduce((n, g) => n + g.ids.length, 0) }, 200);
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
      const filters = filtersOf(c.req.valid('query'));
      await audit(
        c.var.services.db,
        c.var.user,
        { action: 'fans.export', activityId: filters.activity ?? null, target: '粉丝 CSV', detail: { filters } },
        Date.now(),
      );
      const stream = csvStream(CSV_COLUMNS, fanPages(c.var.services.db, c.var.user.id, filters), csvLine);
      return c.body(stream, 200, {
        'content-type': 'text/csv; charset=utf-8',
        // Named by the Beijing date, as the operator's calendar says.
        'content-disposition': `attachment; filename="fans-${shanghaiDate(Date.now())}.csv"`,
      });
    },
  );

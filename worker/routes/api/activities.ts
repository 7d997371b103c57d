import { createRoute, z } from '@hono/zod-openapi';
import { type ActivityDetail, createActivity, deleteActivity, getActivity, listActivities, updateActivity } from '../../campaign/activities';
import { ActivityInput, ActivityPatch, PRIZE_KINDS } from '../../campaign/activity-input';
import { effectiveNotices } from '../../campaign/activity-notices';
import { audit } from '../../campaign/audit';
import { FIGURES, type FigureName } from '../../campaign/figures';
import { activityStats, type DayCounts as DayFigures, recentDays } from '../../campaign/stats';
import { activityStatus, isoShanghai, parseShanghaiDay } from '../../campaign/time';
import { canCreateQr, Flag } from '../../db/values';
import { AppError } from '../../errors';
import { NOTICE_SCENES, storedNotices } from '../../messaging/notices';
import { resolveLayout } from '../../poster/layout';
import { setRule } from '../../poster/rule';
import { createApi, errorResponses, IdParam, json, security } from './openapi';

const Layout = z
  .object({
    avatar: z.object({ x: z.number(), y: z.number(), size: z.number() }),
    nickname: z.object({ x: z.number(), y: z.number(), fontSize: z.number(), color: z.string(), maxWidth: z.number() }),
    qr: z.object({ x: z.number(), y: z.number(), size: z.number() }),
    rule: z.object({ x: z.number(), y: z.number(), fontSize: z.number(), color: z.string(), width: z.number(), height: z.number() }),
  })
  .openapi('PosterLayout');

/** A prize tier's settings, as both the activity and its statistics show them. */
const TierFields = z.object({
  level: z.number().int(),
  number: z.number().int(),
  good: z.string(),
  stock: z.number().int().nullable(),
  kind: z.enum(PRIZE_KINDS),
});

/** An activity's figures, as the list, the detail and the statistics all give them (campaign/figures.ts). */
const FiguresSchema = z
  .object(
    Object.fromEntries(
      Object.entries(FIGURES).map(([name, f]) => [
        name,
        z
          .number()
          .int()
          .openapi({ description: `${f.label}（${f.unit}）：${f.meaning}` }),
      ]),
    ) as Record<FigureName, z.ZodNumber>,
  )
  .openapi('ActivityFigures');

export const ActivitySchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    start_time: z.string(),
    end_time: z.string(),
    status: z.enum(['pending', 'running', 'ended']).openapi({ description: '未开始 / 进行中 / 已结束' }),
    protect_switch: z.number().int(),
    unsubscribe_deduct: z.boolean(),
    publics: z.array(z.string()),
    accounts: z.array(z.object({ appid: z.string(), nick_name: z.string(), head_img: z.string(), qr_capable: z.boolean() })),
    awards: z.array(
      TierFields.extend({
        won: z.number().int().openapi({ description: '已中奖人数（不含作废）' }),
        left: z.number().int().nullable().openapi({ description: '剩余奖品：库存与（兑换码档）兑换码余量中较少者；null 为不限' }),
      }),
    ),
    poster: z.object({ background_img: z.string(), background_url: z.string(), key_word: z.string(), rule: z.string(), layout: Layout }),
    keywords: z.object({ progress: z.string(), claim: z.string() }),
    notices: z
      .record(
        z.enum(NOTICE_SCENES),
        z.object({
          text: z.string().openapi({ description: '粉丝看到的文案（运营修改过的或默认文案）' }),
          template: z.object({ template_id: z.string(), data: z.record(z.string(), z.string()), url: z.enum(['progress', 'claim']).optional() }).nullable(),
        }),
      )
      .openapi({ description: '各通知场景的文案与模板消息' }),
    risk: z.object({ burst_count: z.number().int().nullable(), burst_seconds: z.number().int().nullable(), stay_hours: z.number().int().nullable() }),
    claim_deadline: z.string().nullable().openapi({ description: '领奖截止时间；null 为不限' }),
    end_when_gone: z.boolean().openapi({ description: '奖品发完后自动结束活动' }),
    figures: FiguresSchema,
    participants: z.number().int().openapi({ description: '参与人数（同 figures.participants），保留给旧的调用方' }),
    assists: z.number().int().openapi({ description: '有效助力（同 figures.assists_net），保留给旧的调用方' }),
    deleted: z.boolean().openapi({ description: '已删除（只在 include_deleted=true 时列出）：记录保留，可查看数据与粉丝' }),
    created_at: z.string(),
    warnings: z.array(z.string()),
  })
  .openapi('Activity');

/** An activity as the API shows it (its JSON mirrors the seed's models, DESIGN.md). */
function presentActivity({ activity: a, accounts, awards, poster, figures }: ActivityDetail, now: number): z.infer<typeof ActivitySchema> {
  const layout = resolveLayout(poster.layout);
  return {
    id: a.id,
    name: a.name,
    start_time: isoShanghai(a.startTime),
    end_time: isoShanghai(a.endTime),
    status: activityStatus(a, now),
    protect_switch: a.protectSwitch,
    unsubscribe_deduct: a.unsubscribeDeduct === Flag.yes,
    publics: accounts.map((x) => x.authorizerAppid),
    accounts: accounts.map((x) => ({ appid: x.authorizerAppid, nick_name: x.nickName, head_img: x.headImg, qr_capable: canCreateQr(x) })),
    awards: awards.map((w) => ({ level: w.level, number: w.number, good: w.good, stock: w.stock, kind: w.kind, won: w.won, left: w.left })),
    poster: {
      background_img: poster.backgroundImg,
      background_url: `/api/uploads/${poster.backgroundImg}`,
      key_word: poster.keyWord,
      rule: poster.rule,
      layout,
    },
    keywords: { progress: poster.progressKeyword, claim: poster.claimKeyword },
    notices: effectiveNotices(storedNotices(a.notices)),
    risk: { burst_count: a.burstCount, burst_seconds: a.burstSeconds, stay_hours: a.stayHours },
    claim_deadline: a.claimDeadline === null ? null : isoShanghai(a.claimDeadline),
    end_when_gone: a.endWhenGone === Flag.yes,
    figures,
    participants: figures.participants,
    assists: figures.assists_net,
    deleted: a.deletedAt !== null,
    created_at: isoShanghai(a.createdAt),
    warnings: [
      ...accounts.filter((x) => !canCreateQr(x)).map((x) => `「${x.nickName}」不是认证服务号，无法生成带参数二维码`),
      ...(setRule(poster.rule, layout.rule).fits ? [] : ['海报上的活动规则放不下，超出部分会以“…”省略：请加大规则框或精简规则']),
    ],
  };
}

const list = createRoute({
  method: 'get',
  path: '/activities',
  summary: '活动列表',
  security,
  request: {
    query: z.object({
      status: z.enum(['pending', 'running', 'ended']).optional(),
      account: z.string().max(64).optional(),
      q: z.string().max(32).optional(),
      include_deleted: z
        .enum(['true', 'false'])
        .transform((v) => v === 'true')
        .optional()
        .openapi({ description: '为 true 时也列出已删除的活动（数据统计与粉丝筛选用），默认不列出', type: 'string' }),
      page: z.coerce.number().int().min(1).max(100_000).default(1),
      page_size: z.coerce.number().int().min(1).max(100).default(20),
    }),
  },
  responses: {
    200: {
      description: '活动列表',
      ...json(z.object({ items: z.array(ActivitySchema), total: z.number().int(), page: z.number().int(), page_size: z.number().int() })),
    },
    ...errorResponses(401, 422),
  },
});

const create = createRoute({
  method: 'post',
  path: '/activities',
  summary: '创建活动（活动设置 / 参与公众号 / 奖励设置 / 海报设置）',
  security,
  request: { body: { required: true, ...json(ActivityInput) } },
  responses: { 201: { description: '已创建', ...json(ActivitySchema) }, ...errorResponses(401, 422) },
});

const get = createRoute({
  method: 'get',
  path: '/activities/{id}',
  summary: '活动详情',
  security,
  request: { params: IdParam },
  responses: { 200: { description: '活动', ...json(ActivitySchema) }, ...errorResponses(401, 404) },
});

const patch = createRoute({
  method: 'patch',
  path: '/activities/{id}',
  summary: '修改活动（开始后只能改名称、结束时间、规则、奖品与库存）',
  security,
  request: { params: IdParam, body: { required: true, ...json(ActivityPatch) } },
  responses: { 200: { description: '已修改', ...json(ActivitySchema) }, ...errorResponses(401, 404, 422) },
});

const remove = createRoute({
  method: 'delete',
  path: '/activities/{id}',
  summary: '删除活动',
  security,
  request: { params: IdParam },
  responses: { 204: { description: '已删除' }, ...errorResponses(401, 404) },
});

export const activitiesApi = createApi();
activitiesApi
  .openapi(list, async (c) => {
    const q = c.req.valid('query');
    const now = Date.now();
    const { items, total } = await listActivities(
      c.var.services.db,
      c.var.user.id,
      { status: q.status, account: q.account, q: q.q, includeDeleted: q.include_deleted, page: q.page, pageSize: q.page_size },
      now,
    );
    return c.json({ items: items.map((a) => presentActivity(a, now)), total, page: q.page, page_size: q.page_size }, 200);
  })
  .openapi(create, async (c) => {
    const { db } = c.var.services;
    const id = await createActivity(db, c.var.user.id, c.req.valid('json'));
    return c.json(presentActivity(await getActivity(db, c.var.user.id, id), Date.now()), 201);
  })
  .openapi(get, async (c) => c.json(presentActivity(await getActivity(c.var.services.db, c.var.user.id, c.req.valid('param').id), Date.now()), 200))
  .openapi(patch, async (c) => {
    const { id } = c.req.valid('param');
    const now = Date.now();
    const changed = await updateActivity(c.var.services, c.var.user.id, id, c.req.valid('json'), now);
    const activity = await getActivity(c.var.services.db, c.var.user.id, id);
    if (changed.length)
      await audit(c.var.services.db, c.var.user, { action: 'activity.edit', activityId: id, target: activity.activity.name, detail: { fields: changed } }, now);
    return c.json(presentActivity(activity, now), 200);
  })
  .openapi(remove, async (c) => {
    await deleteActivity(c.var.services, c.var.user.id, c.req.valid('param').id);
    return c.body(null, 204);
  });

const DayCounts = z.object({
  participants: z
    .number()
    .int()
    .openapi({ description: `当天的${FIGURES.participants.label}` }),
  assists_gross: z
    .number()
    .int()
    .openapi({ description: `当天的${FIGURES.assists_gross.label}（按好友关注的日期）` }),
  new_followers: z.number().int(),
  unfollows: z.number().int(),
});
const StatsSchema = z
  .object({
    totals: FiguresSchema.openapi({ description: '整个活动的合计（与活动列表一致）；活动期间各天的参与人数、总助力相加即为合计' }),
    days: z.array(DayCounts.extend({ date: z.string(), net_new: z.number().int(), unfollow_rate: z.number() })),
    today: DayCounts,
    yesterday: DayCounts,
    tiers: z.array(
      TierFields.extend({
        completions: z.number().int().openapi({ description: '达成该档的人数' }),
        won: z.number().int().openapi({ description: '中奖（不含作废）' }),
        claimed: z.number().int().openapi({ description: '已领取待兑现（已填地址待发货 / 已出示核销码待核销）' }),
        fulfilled: z.number().int().openapi({ description: '已兑现（兑换码已领取 / 已发货 / 已核销）' }),
      }),
    ),
    depth: z.array(z.object({ level: z.number().int(), fans: z.number().int() })),
    leaderboard: z.array(
      z.object({
        id: z.number().int(),
        open_id: z.string(),
        nick_name: z.string().nullable(),
        avatar: z.string().nullable(),
        number: z.number().int(),
        task_progress: z.number().int(),
      }),
    ),
  })
  .openapi('ActivityStats');
const dayCounts = (d: DayFigures): z.infer<typeof DayCounts> => ({
  participants: d.participants,
  assists_gross: d.assistsGross,
  new_followers: d.newFollowers,
  unfollows: d.unfollows,
});

/** An activity's statistics as the API shows them. */
function presentStats(s: Awaited<ReturnType<typeof activityStats>>): z.infer<typeof StatsSchema> {
  return {
    totals: s.totals,
    days: s.days.map((d) => ({
      date: d.date,
      ...dayCounts(d),
      net_new: d.netNew,
      unfollow_rate: d.newFollowers ? Math.round((d.unfollows / d.newFollowers) * 1000) / 1000 : 0,
    })),
    today: dayCounts(s.today),
    yesterday: dayCounts(s.yesterday),
    tiers: s.tiers,
    depth: s.depth,
    leaderboard: s.leaderboard.map((l) => ({
      id: l.id,
      open_id: l.openId,
      nick_name: l.nickName,
      avatar: l.avatar,
      number: l.number,
      task_progress: l.taskProgress,
    })),
  };
}

/** A stats day ("2026-11-23", Asia/Shanghai) → the start of that day, epoch ms. */
const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, '日期格式为 YYYY-MM-DD')
  .transform((d, ctx) => {
    const start = parseShanghaiDay(d);
    if (start === null) {
      ctx.addIssue({ code: 'custom', message: '日期无效：须为 2000 年至 2099 年间的日期' });
      return z.NEVER;
    }
    return start;
  })
  .openapi({ type: 'string', example: '2026-11-23' });

activitiesApi.openapi(
  createRoute({
    method: 'get',
    path: '/activities/{id}/stats',
    summary: '数据统计（最近 7 / 30 天或日期范围，按北京时间；已删除的活动也可查看）',
    security,
    request: {
      params: IdParam,
      query: z.object({
        days: z.coerce
          .number()
          .int()
          .min(1)
          .max(366)
          .optional()
          .openapi({ description: '不给日期范围时：到今天（已结束的活动到结束那天）为止的天数，默认 7，不早于活动开始那天' }),
        from: Day.optional(),
        to: Day.optional(),
      }),
    },
    responses: { 200: { description: '统计', ...json(StatsSchema) }, ...errorResponses(401, 404, 422) },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const { db } = c.var.services;
    const { activity } = await getActivity(db, c.var.user.id, id, { includeDeleted: true });
    const now = Date.now();
    const recent = recentDays(activity, q.days ?? 7, now);
    const from = q.from ?? recent.from;
    const to = q.to ?? recent.to;
    if (to < from || to - from > 366 * 86_400_000)
      throw new AppError('validation_failed', '日期范围无效（最长 366 天）', { to: '日期范围无效（最长 366 天）' });
    return c.json(presentStats(await activityStats(db, id, from, to, now)), 200);
  },
);

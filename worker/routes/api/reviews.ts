import { createRoute, z } from '@hono/zod-openapi';
import { ownedActivity } from '../../campaign/activities';
import { listReviews, type ReviewItem } from '../../campaign/review-queue';
import { decideReview } from '../../campaign/reviews';
import { isoShanghai } from '../../campaign/time';
import { createApi, errorResponses, IdParam, json, security } from './openapi';

const STATUSES = ['flagged', 'approved', 'voided'] as const;

const ReviewSchema = z
  .object({
    poster_id: z.number().int().openapi({ description: '海报主人的参与记录 ID' }),
    open_id: z.string(),
    nickname: z.string().nullable(),
    avatar: z.string().nullable(),
    number: z.number().int().openapi({ description: '当前计入的助力数' }),
    status: z.enum(STATUSES).openapi({ description: 'flagged 待审核 / approved 已通过 / voided 已作废' }),
    flagged_at: z.string(),
    decided_at: z.string().nullable(),
    decided_by: z.string().nullable(),
    evidence: z.object({
      bucket_seconds: z.number().int(),
      timeline: z
        .array(z.object({ at: z.string(), counted: z.number().int(), held: z.number().int() }))
        .openapi({ description: '按时间段的助力数：计入的与未计入的（暂停、待确认或已作废）' }),
      helpers: z.number().int(),
      held: z.number().int().openapi({ description: '暂停待审核的助力' }),
      left: z.number().int().openapi({ description: '此后已取关的助力好友' }),
      first_assist_after_seconds: z.number().int().nullable().openapi({ description: '从海报主人参与到第一位好友关注（秒）' }),
      median_gap_seconds: z.number().nullable().openapi({ description: '相邻两次助力的间隔中位数（秒）' }),
      median_stay_seconds: z.number().nullable().openapi({ description: '已取关好友从关注到取关的时长中位数（秒）' }),
    }),
  })
  .openapi('Review');

/** A flagged poster as the API shows it, with its evidence. */
function presentReview({ review: r, owner, evidence: e }: ReviewItem): z.infer<typeof ReviewSchema> {
  return {
    poster_id: r.partInId,
    open_id: owner.openId,
    nickname: owner.nickName,
    avatar: owner.avatar,
    number: owner.number,
    status: r.status,
    flagged_at: isoShanghai(r.flaggedAt),
    decided_at: r.decidedAt === null ? null : isoShanghai(r.decidedAt),
    decided_by: r.decidedBy,
    evidence: {
      bucket_seconds: e.bucketSeconds,
      timeline: e.timeline.map((p) => ({ at: isoShanghai(p.at), counted: p.counted, held: p.held })),
      helpers: e.helpers,
      held: e.held,
      left: e.left,
      first_assist_after_seconds: e.firstAssistAfterSeconds,
      median_gap_seconds: e.medianGapSeconds,
      median_stay_seconds: e.medianStaySeconds,
    },
  };
}

const PosterParam = IdParam.extend({
  posterId: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'posterId', in: 'path' } }),
});

export const reviewsApi = createApi()
  .openapi(
    createRoute({
      method: 'get',
      path: '/activities/{id}/reviews',
      summary: '防刷审核队列（被突增规则暂停的海报与证据）',
      security,
      request: {
        params: IdParam,
        query: z.object({
          status: z.enum(STATUSES).default('flagged'),
          before: z.coerce.number().int().positive().optional().openapi({ description: '上一页返回的 next（翻页）' }),
          page_size: z.coerce.number().int().min(1).max(50).default(20),
        }),
      },
      responses: {
        200: { description: '审核记录，最新的在前', ...json(z.object({ items: z.array(ReviewSchema), next: z.number().int().nullable() })) },
        ...errorResponses(401, 404, 422),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const { db } = c.var.services;
      await ownedActivity(db, c.var.user.id, id);
      const { items, next } = await listReviews(db, c.var.user.id, id, { status: q.status, before: q.before }, q.page_size);
      return c.json({ items: items.map(presentReview), next }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/activities/{id}/reviews/{posterId}',
      summary: '审核：通过（暂停的助力按顺序计入）或作废（可同时拉黑海报主人和/或助力好友）',
      security,
      request: {
        params: PosterParam,
        body: {
          required: true,
          ...json(
            z.object({
              action: z.enum(['approve', 'void'], { message: 'action 为 approve（通过）或 void（作废）' }),
              blacklist: z
                .object({ owner: z.boolean().default(false), helpers: z.boolean().default(false) })
                .default({ owner: false, helpers: false })
                .openapi({ description: '作废时拉黑海报主人（owner）和/或为这张海报助力的好友（helpers）' }),
            }),
          ),
        },
      },
      responses: {
        200: {
          description: '已审核（重复提交同一决定不会重复生效：changed 为 false）',
          ...json(
            z.object({
              status: z.enum(STATUSES),
              changed: z.boolean(),
              counted: z.number().int(),
              waiting: z.number().int().openapi({ description: '通过后仍需等关注满时长才计入的助力' }),
              dropped: z.number().int(),
              blacklisted: z.number().int(),
            }),
          ),
        },
        ...errorResponses(401, 404, 409, 422),
      },
    }),
    async (c) => {
      const { id, posterId } = c.req.valid('param');
      const body = c.req.valid('json');
      const blacklist = body.action === 'void' ? body.blacklist : { owner: false, helpers: false };
      return c.json(await decideReview(c.var.services, c.var.user, id, posterId, { action: body.action, blacklist }, Date.now()), 200);
    },
  );

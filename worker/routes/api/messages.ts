import { createRoute, z } from '@hono/zod-openapi';
import { activityMessages, fanMessages, type MessagePage, type MessageRow } from '../../campaign/message-history';
import { isoShanghai } from '../../campaign/time';
import { CHANNELS, MESSAGE_STATUSES } from '../../db/schema';
import { NOTICE_SCENES, SCENE_LABELS } from '../../messaging/notices';
import { createApi, errorResponses, IdParam, json, security } from './openapi';

const SCENES = [...NOTICE_SCENES, 'poster'] as const;
const SCENE_LABEL: Record<string, string> = { ...SCENE_LABELS, poster: '海报图片' };
const CHANNEL_LABEL: Record<(typeof CHANNELS)[number], string> = { passive: '被动回复', custom: '客服消息', template: '模板消息', none: '未送达' };
const STATUS_LABEL: Record<(typeof MESSAGE_STATUSES)[number], string> = {
  sending: '发送中',
  retrying: '等待重试',
  sent: '已发送',
  delivered: '已送达',
  blocked: '被拒收',
  failed: '发送失败',
  skipped: '未发送',
};

const MessageSchema = z
  .object({
    id: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
    open_id: z.string(),
    nick_name: z.string().nullable(),
    activity: z.object({ id: z.number().int(), name: z.string() }).nullable(),
    scene: z
      .string()
      .nullable()
      .openapi({ description: `通知场景（${SCENES.join(' / ')}），其他消息为 null` }),
    scene_label: z.string(),
    channel: z.enum(CHANNELS).nullable().openapi({ description: 'passive 被动回复 / custom 客服消息 / template 模板消息 / none 未送达' }),
    channel_label: z.string(),
    status: z.enum(MESSAGE_STATUSES),
    status_label: z.string(),
    summary: z.string().openapi({ description: '粉丝看到的内容（未送达时为本应看到的内容）' }),
    errcode: z.number().int().nullable(),
    detail: z.string().nullable().openapi({ description: '为什么这样发、为什么没发到，或微信的回执' }),
    attempts: z.number().int(),
  })
  .openapi('Message');

const Page = z.object({
  items: z.array(MessageSchema),
  next_cursor: z.string().nullable().openapi({ description: '下一页（更早的消息）；没有时为 null' }),
});

const Cursor = z
  .string()
  .regex(/^\d{1,15}$/, '翻页游标无效，请从第一页重新翻页')
  .transform(Number)
  .optional()
  .openapi({ type: 'string', description: '上一次返回的 next_cursor' });
const PageSize = z.coerce.number().int().min(1).max(100).default(20);

/** A message as the admin shows it: what the fan read, how it went, and why. */
function presentMessage({ message: m, nickName, activityName }: MessageRow): z.infer<typeof MessageSchema> {
  return {
    id: m.id,
    created_at: isoShanghai(m.createdAt),
    updated_at: isoShanghai(m.updatedAt),
    open_id: m.openId,
    nick_name: nickName,
    activity: m.activityId !== null ? { id: m.activityId, name: activityName ?? '' } : null,
    scene: m.scene,
    scene_label: (m.scene && SCENE_LABEL[m.scene]) || '其他消息',
    channel: m.channel,
    channel_label: m.channel ? CHANNEL_LABEL[m.channel] : '待定',
    status: m.status,
    status_label: STATUS_LABEL[m.status],
    summary: m.summary,
    errcode: m.errcode,
    detail: m.errmsg && m.errmsg !== 'ok' ? m.errmsg : null,
    attempts: m.attempts,
  };
}

const presentPage = (p: MessagePage) => ({ items: p.items.map(presentMessage), next_cursor: p.before === null ? null : String(p.before) });

export const messagesApi = createApi()
  .openapi(
    createRoute({
      method: 'get',
      path: '/activities/{id}/messages',
      summary: '活动的消息记录：每条通知怎样发给了谁，没发到的原因',
      security,
      request: {
        params: IdParam,
        query: z.object({
          channel: z.enum(CHANNELS).optional(),
          status: z.enum(MESSAGE_STATUSES).optional(),
          scene: z.enum(SCENES).optional(),
          open_id: z.string().max(64).optional(),
          cursor: Cursor,
          page_size: PageSize,
        }),
      },
      responses: { 200: { description: '消息，最新的在前', ...json(Page) }, ...errorResponses(401, 404, 422) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await activityMessages(
        c.var.services.db,
        c.var.user.id,
        c.req.valid('param').id,
        { channel: q.channel, status: q.status, scene: q.scene, openId: q.open_id },
        q.cursor,
        q.page_size,
      );
      return c.json(presentPage(page), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/fans/{id}/messages',
      summary: '粉丝的消息记录（该公众号上所有活动）',
      security,
      request: { params: IdParam, query: z.object({ cursor: Cursor, page_size: PageSize }) },
      responses: {
        200: { description: '消息，最新的在前', ...json(Page.extend({ open_id: z.string(), appid: z.string() })) },
        ...errorResponses(401, 404, 422),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await fanMessages(c.var.services.db, c.var.user.id, c.req.valid('param').id, q.cursor, q.page_size);
      return c.json({ ...presentPage(page), open_id: page.openId, appid: page.appid }, 200);
    },
  );

import { createRoute, z } from '@hono/zod-openapi';
import { listAudit } from '../../campaign/audit';
import { AUDIT_ACTIONS, type AuditAction } from '../../campaign/labels';
import { isoShanghai } from '../../campaign/time';
import { createApi, errorResponses, json, security } from './openapi';

const ACTIONS = Object.keys(AUDIT_ACTIONS) as [AuditAction, ...AuditAction[]];

const AuditSchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actor: z.string().openapi({ description: '操作人（用户名）' }),
    action: z.enum(ACTIONS),
    action_label: z.string(),
    activity: z.object({ id: z.number().int(), name: z.string() }).nullable(),
    target: z.string(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('AuditEntry');

export const auditApi = createApi().openapi(
  createRoute({
    method: 'get',
    path: '/audit',
    summary: '操作日志（拉黑、审核、核销、发货、导入、导出、活动开始后的修改）',
    security,
    request: {
      query: z.object({
        activity: z.coerce.number().int().positive().optional(),
        action: z.enum(ACTIONS).optional(),
        before: z.coerce.number().int().positive().optional().openapi({ description: '上一页返回的 next（翻页）' }),
        page_size: z.coerce.number().int().min(1).max(100).default(30),
      }),
    },
    responses: {
      200: { description: '最新的在前', ...json(z.object({ items: z.array(AuditSchema), next: z.number().int().nullable() })) },
      ...errorResponses(401, 422),
    },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const { items, next } = await listAudit(c.var.services.db, c.var.user.id, { activity: q.activity, action: q.action, before: q.before }, q.page_size);
    return c.json(
      {
        items: items.map(({ entry: e, activityName }) => ({
          id: e.id,
          at: isoShanghai(e.at),
          actor: e.actor,
          action: e.action as AuditAction,
          action_label: AUDIT_ACTIONS[e.action as AuditAction] ?? e.action,
          activity: e.activityId === null || activityName === null ? null : { id: e.activityId, name: activityName },
          target: e.target,
          detail: e.detail ?? null,
        })),
        next,
      },
      200,
    );
  },
);

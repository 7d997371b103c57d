import { z } from '@hono/zod-openapi';

/** "2026-11-23T20:00:00+08:00", "2026-11-23 20:00" (Asia/Shanghai) or epoch milliseconds → epoch ms. */
export function parseTime(v: string | number): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  const local = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(v.trim());
  if (local) {
    const [, y, mo, d, h, mi, s] = local.map(Number);
    return Date.UTC(y, mo - 1, d, h - 8, mi, s || 0);
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v.trim())) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

const Time = z
  .union([z.string().max(40), z.number()])
  .transform((v, ctx) => {
    const t = parseTime(v);
    if (t === null) {
      ctx.addIssue({ code: 'custom', message: '时间格式应为 2026-11-23T20:00:00+08:00 或 2026-11-23 20:00' });
      return z.NEVER;
    }
    // Whole seconds: what the API shows is exactly what is stored, so a resubmitted form is unchanged.
    return Math.floor(t / 1000) * 1000;
  })
  .openapi({ type: 'string', example: '2026-11-23T20:00:00+08:00' });

export const ActivitySettings = z.object({
  name: z.string().trim().min(1, '请填写活动名称').max(16, '活动名称最多 16 个字'),
  start_time: Time,
  end_time: Time,
  protect_switch: z
    .union([z.literal(1), z.literal(2), z.boolean()])
    .transform((v) => (v === true || v === 1 ? 1 : 2))
    .default(1)
    .openapi({ type: 'integer', enum: [1, 2], description: '拉新保护：1 开，2 关' }),
  unsubscribe_deduct: z
    .union([z.boolean(), z.literal(0), z.literal(1)])
    .transform(Boolean)
    .default(true)
    .openapi({ type: 'boolean', description: '取关扣助力' }),
});

export const AwardInput = z.object({
  level: z.number().int().min(1, '等级为 1–3').max(3, '等级为 1–3'),
  number: z.number().int().min(1, '助力人数至少为 1').max(100_000, '助力人数过大'),
  good: z.string().trim().min(1, '请填写奖品').max(255, '奖品描述最多 255 个字'),
  stock: z.number().int().min(0, '库存不能为负').max(10_000_000).nullable().optional(),
});

export const PosterInput = z.object({
  background_img: z.string().min(1, '请上传海报背景').max(128),
  key_word: z.string().trim().min(1, '请填写关键词').max(10, '关键词最多 10 个字'),
  rule: z.string().trim().min(1, '请填写活动规则').max(256, '活动规则最多 256 个字'),
  layout: z.record(z.string(), z.unknown()).optional().openapi({ description: '头像、昵称、二维码、规则的位置与大小（750×1334 画布）' }),
});

export const ActivityInput = ActivitySettings.extend({
  publics: z.array(z.string().min(1).max(64)).min(1, '至少选择一个公众号').max(20, '最多 20 个公众号'),
  awards: z.array(AwardInput).min(1, '至少设置一档奖励').max(3, '最多三档奖励'),
  poster: PosterInput,
}).openapi('ActivityInput');

export type ActivityInput = z.infer<typeof ActivityInput>;

export const ActivityPatch = ActivitySettings.partial()
  .extend({
    publics: ActivityInput.shape.publics.optional(),
    awards: ActivityInput.shape.awards.optional(),
    poster: PosterInput.partial().optional(),
  })
  .openapi('ActivityPatch');

export type ActivityPatch = z.infer<typeof ActivityPatch>;

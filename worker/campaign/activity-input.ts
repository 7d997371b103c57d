import { z } from '@hono/zod-openapi';
import { NOTICE_SCENES, NOTICE_VARIABLES, type NoticeScene, unknownVariables } from '../messaging/notices';
import { EARLIEST, LATEST } from './time';

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
    if (t < EARLIEST || t > LATEST) {
      ctx.addIssue({ code: 'custom', message: '时间须在 2000 年至 2100 年之间' });
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

export const PRIZE_KINDS = ['code', 'shipping', 'onsite'] as const;
export type PrizeKind = (typeof PRIZE_KINDS)[number];

export const AwardInput = z.object({
  level: z.number().int().min(1, '等级为 1–3').max(3, '等级为 1–3'),
  number: z.number().int().min(1, '助力人数至少为 1').max(100_000, '助力人数过大'),
  good: z.string().trim().min(1, '请填写奖品').max(255, '奖品描述最多 255 个字'),
  stock: z.number().int().min(0, '库存不能为负').max(10_000_000).nullable().optional(),
  kind: z
    .enum(PRIZE_KINDS, { message: '领奖方式为 code（兑换码）、shipping（实物邮寄）或 onsite（线下核销）' })
    .optional()
    .openapi({ description: 'code 兑换码 / shipping 实物邮寄 / onsite 线下核销（默认 onsite）' }),
});

const Keyword = z.string().trim().min(1, '请填写关键词').max(10, '关键词最多 10 个字');

/** The texts a fan sends to ask for progress and prizes; like key_word, checked for clashes. */
export const KeywordsInput = z
  .object({ progress: Keyword.optional(), claim: Keyword.optional() })
  .openapi({ description: '查询进度与领奖的回复关键词（默认“进度”“领奖”）' });

/** A notice text: its `{variables}` must exist, so fans never read a raw placeholder. Line breaks are stored as LF (forms post CRLF). */
const NoticeText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, '内容不能为空')
    .max(max, `最多 ${max} 个字`)
    .superRefine((text, ctx) => {
      const unknown = unknownVariables(text);
      if (unknown.length)
        ctx.addIssue({
          code: 'custom',
          message: `未知变量 ${unknown.map((v) => `{${v}}`).join('、')}，可用变量：${Object.keys(NOTICE_VARIABLES)
            .map((v) => `{${v}}`)
            .join(' ')}`,
        });
    })
    .transform((text) => text.replace(/\r\n?/g, '\n'));

const TemplateBinding = z
  .object({
    template_id: z.string().trim().min(1, '请选择模板').max(64),
    data: z
      .record(z.string().regex(/^[A-Za-z0-9_]{1,32}$/, '模板字段名只能是字母、数字和下划线'), NoticeText(200))
      .refine((d) => Object.keys(d).length <= 20, '模板字段最多 20 个'),
    url: z.enum(['progress', 'claim']).optional().openapi({ description: '点击模板消息打开进度页或领奖页' }),
  })
  .openapi('NoticeTemplate');

const SceneInput = z.strictObject({ text: NoticeText(600).nullable().optional(), template: TemplateBinding.nullable().optional() });

/** Per scene: the operator's text (null: back to the default) and template binding (null: none). */
export const NoticesInput = z
  .strictObject(
    Object.fromEntries(NOTICE_SCENES.map((scene) => [scene, SceneInput.nullable().optional()])) as Record<
      NoticeScene,
      z.ZodOptional<z.ZodNullable<typeof SceneInput>>
    >,
    {
      error: (issue) => (issue.code === 'unrecognized_keys' ? `未知的通知场景 ${issue.keys.join('、')}，可用：${NOTICE_SCENES.join(' / ')}` : undefined),
    },
  )
  .openapi({ description: `各通知场景的文案与模板消息：${NOTICE_SCENES.join(' / ')}` });
export type NoticesInput = z.infer<typeof NoticesInput>;

/** 防刷 rules, off by default (null). */
export const RiskInput = z
  .object({
    burst_count: z
      .number()
      .int()
      .min(1, '至少 1 次')
      .max(10_000, '最多 10000 次')
      .nullable()
      .optional()
      .openapi({ description: '同一海报在 burst_seconds 秒内超过这么多次助力即暂停并待审核' }),
    burst_seconds: z.number().int().min(1, '至少 1 秒').max(86_400, '最多 86400 秒（一天）').nullable().optional(),
    stay_hours: z
      .number()
      .int()
      .min(1, '至少 1 小时')
      .max(720, '最多 720 小时（30 天）')
      .nullable()
      .optional()
      .openapi({ description: '助力者关注满这么多小时后才计入' }),
  })
  .openapi('RiskInput');
export type RiskInput = z.infer<typeof RiskInput>;

export const PosterInput = z.object({
  background_img: z.string().min(1, '请上传海报背景').max(128),
  key_word: z.string().trim().min(1, '请填写关键词').max(10, '关键词最多 10 个字'),
  rule: z.string().trim().min(1, '请填写活动规则').max(256, '活动规则最多 256 个字'),
  layout: z.record(z.string(), z.unknown()).optional().openapi({ description: '头像、昵称、二维码、规则的位置与大小（750×1334 画布）' }),
});

/** 领奖 settings: a deadline after which claims close, and whether the activity ends when its prizes are gone. */
export const ClaimSettings = z.object({
  claim_deadline: Time.nullable()
    .optional()
    .openapi({ type: ['string', 'null'], description: '领奖截止时间（过后领奖页关闭、不再核销），null 为不限' }),
  end_when_gone: z.boolean().optional().openapi({ description: '所有档位的奖品（库存或兑换码）发完后自动结束活动' }),
});

export const ActivityInput = ActivitySettings.extend({
  ...ClaimSettings.shape,
  publics: z.array(z.string().min(1).max(64)).min(1, '至少选择一个公众号').max(20, '最多 20 个公众号'),
  awards: z.array(AwardInput).min(1, '至少设置一档奖励').max(3, '最多三档奖励'),
  poster: PosterInput,
  keywords: KeywordsInput.optional(),
  notices: NoticesInput.optional(),
  risk: RiskInput.optional(),
}).openapi('ActivityInput');

export type ActivityInput = z.infer<typeof ActivityInput>;

export const DEFAULT_KEYWORDS = { progress: '进度', claim: '领奖' } as const;

/** An activity's complete settings: what the API accepts, with every optional part filled in. */
export type CompleteActivity = Omit<ActivityInput, 'awards' | 'keywords' | 'notices' | 'risk' | 'claim_deadline' | 'end_when_gone'> & {
  awards: (z.infer<typeof AwardInput> & { kind: PrizeKind })[];
  claim_deadline: number | null;
  end_when_gone: boolean;
  keywords: { progress: string; claim: string };
  notices: NoticesInput;
  risk: RiskInput;
};

/** Fills in what a create may leave out: onsite prizes, the default keywords, no custom notices, no 防刷 rules, no claim deadline. */
export function withDefaults(input: ActivityInput): CompleteActivity {
  return {
    ...input,
    claim_deadline: input.claim_deadline ?? null,
    end_when_gone: input.end_when_gone ?? false,
    awards: input.awards.map((a) => ({ ...a, kind: a.kind ?? 'onsite' })),
    keywords: { ...DEFAULT_KEYWORDS, ...input.keywords },
    notices: input.notices ?? {},
    risk: input.risk ?? {},
  };
}

export const ActivityPatch = ActivitySettings.partial()
  .extend({
    ...ClaimSettings.shape,
    publics: ActivityInput.shape.publics.optional(),
    awards: ActivityInput.shape.awards.optional(),
    poster: PosterInput.partial().optional(),
    keywords: KeywordsInput.optional(),
    notices: NoticesInput.optional(),
    risk: RiskInput.optional(),
  })
  .openapi('ActivityPatch');

export type ActivityPatch = z.infer<typeof ActivityPatch>;

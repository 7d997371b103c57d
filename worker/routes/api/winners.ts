import { createRoute, z } from '@hono/zod-openapi';
import { ownedActivity } from '../../campaign/activities';
import { PRIZE_KINDS } from '../../campaign/activity-input';
import { audit } from '../../campaign/audit';
import { PRIZE_KIND_LABELS, WINNER_STATUS_LABELS } from '../../campaign/labels';
import { importCodes } from '../../campaign/prize-codes';
import { isoShanghai } from '../../campaign/time';
import {
  eraseContacts,
  listWinners,
  redeemCode,
  type ShipLine,
  shipMany,
  shipWinner,
  WINNERS_TOTAL_CAP,
  type WinnerFilters,
  type WinnerRow,
  winnerPages,
} from '../../campaign/winners';
import { WINNER_STATUSES } from '../../db/schema/prizes';
import { AppError } from '../../errors';
import { csvStream, parseCsv } from './csv';
import { CursorParam, createApi, errorResponses, IdParam, json, security } from './openapi';

const WinnerSchema = z
  .object({
    id: z.number().int(),
    level: z.number().int(),
    good: z.string(),
    kind: z.enum(PRIZE_KINDS),
    open_id: z.string(),
    nickname: z.string().nullable(),
    avatar: z.string().nullable(),
    status: z.enum(WINNER_STATUSES).openapi({ description: 'won 待领取 / claimed 已领取待兑现 / fulfilled 已兑现 / void 作废 / held 审核中' }),
    code: z.string().optional().openapi({ description: '兑换码（code）或核销码（onsite）' }),
    contact: z.object({ name: z.string(), phone: z.string(), region: z.string(), address: z.string() }).optional(),
    contact_erased: z.boolean().openapi({ description: '联系方式已被清除' }),
    shipping: z.object({ company: z.string(), tracking_no: z.string() }).optional(),
    won_at: z.string(),
    claimed_at: z.string().optional(),
    fulfilled_at: z.string().optional(),
  })
  .openapi('Winner');

/** A prize record as the API shows it (DESIGN.md's winner shape). */
function presentWinner({ winner: x, nickName, avatar }: WinnerRow): z.infer<typeof WinnerSchema> {
  return {
    id: x.id,
    level: x.level,
    good: x.good,
    kind: x.kind,
    open_id: x.openId,
    nickname: nickName,
    avatar,
    status: x.status,
    ...(x.code ? { code: x.code } : {}),
    ...(x.contactName ? { contact: { name: x.contactName, phone: x.contactPhone ?? '', region: x.contactRegion ?? '', address: x.contactAddress ?? '' } } : {}),
    contact_erased: x.contactErasedAt !== null,
    ...(x.shipCompany ? { shipping: { company: x.shipCompany, tracking_no: x.trackingNo ?? '' } } : {}),
    won_at: isoShanghai(x.wonAt),
    ...(x.claimedAt ? { claimed_at: isoShanghai(x.claimedAt) } : {}),
    ...(x.fulfilledAt ? { fulfilled_at: isoShanghai(x.fulfilledAt) } : {}),
  };
}

const CSV_COLUMNS = [
  '中奖ID',
  '档位',
  '奖品',
  '领奖方式',
  '状态',
  '昵称',
  'OpenID',
  '兑换码/核销码',
  '收货人',
  '手机号',
  '所在地区',
  '详细地址',
  '快递公司',
  '快递单号',
  '中奖时间',
  '领取时间',
  '兑现时间',
] as const;

/** A winner's line in the CSV export. */
function csvLine(r: WinnerRow): unknown[] {
  const v = presentWinner(r);
  return [
    v.id,
    v.level,
    v.good,
    PRIZE_KIND_LABELS[v.kind],
    WINNER_STATUS_LABELS[v.status],
    v.nickname,
    v.open_id,
    v.code,
    v.contact?.name,
    v.contact?.phone,
    v.contact?.region,
    v.contact?.address,
    v.shipping?.company,
    v.shipping?.tracking_no,
    v.won_at,
    v.claimed_at,
    v.fulfilled_at,
  ];
}

const Filters = z.object({
  level: z.coerce.number().int().min(1).max(3).optional(),
  kind: z.enum(PRIZE_KINDS).optional(),
  status: z.enum(WINNER_STATUSES).optional(),
  q: z.string().trim().max(64).optional().openapi({ description: '昵称、手机号或兑换码/核销码的一部分' }),
});
const filtersOf = ({ q, ...rest }: z.infer<typeof Filters>): WinnerFilters => ({ ...rest, q: q || undefined });

const PageQuery = Filters.extend({
  cursor: CursorParam,
  page_size: z.coerce.number().int().min(1).max(100).default(20),
});

const LevelParam = IdParam.extend({
  level: z.coerce
    .number()
    .int()
    .min(1)
    .max(3)
    .openapi({ param: { name: 'level', in: 'path' } }),
});

/** A 兑换码: what the fan types or pastes at the shop or app, so no spaces or commas. */
const Code = z
  .string()
  .trim()
  .regex(/^[^\s,]{1,64}$/, '兑换码为 1–64 个字符，不能含空格或逗号');
const Tracking = z.object({
  company: z.string().trim().min(1, '请填写快递公司').max(20, '快递公司最多 20 个字'),
  tracking_no: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9-]{4,40}$/, '快递单号为 4–40 位字母、数字或横线'),
});

/** Reads a bulk-shipment CSV (中奖ID, 快递公司, 快递单号; a header line is allowed): lines to ship and lines refused. */
function shipLines(csv: string): { lines: ShipLine[]; errors: { line: number; message: string }[] } {
  const lines: ShipLine[] = [];
  const errors: { line: number; message: string }[] = [];
  const rows = parseCsv(csv);
  for (const [i, { line, cells }] of rows.entries()) {
    if (i === 0 && !/^\d+$/.test(cells[0] ?? '')) continue;
    const id = Number(cells[0]);
    const t = Tracking.safeParse({ company: cells[1] ?? '', tracking_no: cells[2] ?? '' });
    if (!Number.isSafeInteger(id) || id <= 0) errors.push({ line, message: `中奖ID「${cells[0]}」不是数字` });
    else if (!t.success) errors.push({ line, message: t.error.issues[0].message });
    else lines.push({ line, winnerId: id, company: t.data.company, trackingNo: t.data.tracking_no });
  }
  return { lines, errors };
}

const LineErrors = z.array(z.object({ line: z.number().int(), message: z.string() }));

export const winnersApi = createApi()
  .openapi(
    createRoute({
      method: 'post',
      path: '/activities/{id}/awards/{level}/codes',
      summary: '导入兑换码（每行一个；重复的跳过）',
      security,
      request: {
        params: LevelParam,
        body: { required: true, ...json(z.object({ codes: z.array(Code).min(1, '请至少提供一个兑换码').max(5000, '一次最多导入 5000 个兑换码') })) },
      },
      responses: {
        200: {
          description: '导入结果',
          ...json(
            z.object({
              added: z.number().int(),
              duplicates: z.number().int().openapi({ description: '与本次或本活动已有的兑换码重复而跳过的个数' }),
              available: z.number().int().openapi({ description: '这一档现在未发出的兑换码' }),
            }),
          ),
        },
        ...errorResponses(401, 404, 409, 422),
      },
    }),
    async (c) => {
      const { id, level } = c.req.valid('param');
      const now = Date.now();
      const result = await importCodes(c.var.services, c.var.user.id, id, level, c.req.valid('json').codes, now);
      await audit(c.var.services.db, c.var.user, { action: 'codes.import', activityId: id, target: `第 ${level} 档兑换码`, detail: { level, ...result } }, now);
      return c.json(result, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/activities/{id}/winners',
      summary: '中奖名单',
      security,
      request: { params: IdParam, query: PageQuery },
      responses: {
        200: {
          description: '中奖记录，最新的在前',
          ...json(
            z.object({
              items: z.array(WinnerSchema),
              total: z
                .number()
                .int()
                .openapi({ description: `匹配数，最多计到 ${WINNERS_TOTAL_CAP}；第一页计数，cursor 带到后续各页` }),
              total_capped: z.boolean(),
              page: z.number().int(),
              page_size: z.number().int(),
              next_cursor: z.string().nullable(),
              prev_cursor: z.string().nullable(),
            }),
          ),
        },
        ...errorResponses(401, 404, 422),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { cursor, page_size, ...filters } = c.req.valid('query');
      const { db } = c.var.services;
      await ownedActivity(db, c.var.user.id, id);
      const page = await listWinners(db, c.var.user.id, id, filtersOf(filters), cursor ?? null, page_size);
      return c.json({ ...page, items: page.items.map(presentWinner) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/activities/{id}/winners/export',
      summary: '导出中奖名单（CSV，流式）',
      security,
      request: { params: IdParam, query: Filters },
      responses: { 200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } }, ...errorResponses(401, 404, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { db } = c.var.services;
      await ownedActivity(db, c.var.user.id, id);
      const filters = filtersOf(c.req.valid('query'));
      await audit(db, c.var.user, { action: 'winners.export', activityId: id, target: '中奖名单 CSV', detail: { filters } }, Date.now());
      const stream = csvStream(CSV_COLUMNS, winnerPages(db, c.var.user.id, id, filters), csvLine);
      return c.body(stream, 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="winners-${id}-${new Date().toISOString().slice(0, 10)}.csv"`,
      });
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/activities/{id}/winners/ship',
      summary: '批量发货（CSV：中奖ID, 快递公司, 快递单号）',
      security,
      request: { params: IdParam, body: { required: true, ...json(z.object({ csv: z.string().min(1, '请上传或粘贴 CSV').max(1_000_000, 'CSV 最大 1 MB') })) } },
      responses: {
        200: { description: '发货结果：能发的已发货并通知粉丝，其余按行说明原因', ...json(z.object({ shipped: z.number().int(), errors: LineErrors })) },
        ...errorResponses(401, 404, 422),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { db } = c.var.services;
      await ownedActivity(db, c.var.user.id, id);
      const { lines, errors } = shipLines(c.req.valid('json').csv);
      if (!lines.length && !errors.length)
        throw new AppError('validation_failed', 'CSV 里没有要发货的行', { csv: 'CSV 里没有要发货的行（每行：中奖ID, 快递公司, 快递单号）' });
      const now = Date.now();
      const result = await shipMany(c.var.services, c.var.user.id, id, lines, now);
      const refused = [...errors, ...result.errors].sort((a, b) => a.line - b.line);
      await audit(
        db,
        c.var.user,
        { action: 'prize.ship_csv', activityId: id, target: `${result.shipped} 件`, detail: { shipped: result.shipped, refused: refused.length } },
        now,
      );
      return c.json({ shipped: result.shipped, errors: refused }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/activities/{id}/winners/erase-contacts',
      summary: '清除本活动中奖者的联系方式（姓名、手机号、地址）',
      security,
      request: { params: IdParam },
      responses: { 200: { description: '已清除', ...json(z.object({ erased: z.number().int() })) }, ...errorResponses(401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { db } = c.var.services;
      await ownedActivity(db, c.var.user.id, id);
      const now = Date.now();
      const erased = await eraseContacts(db, c.var.user.id, id, now);
      await audit(db, c.var.user, { action: 'winners.erase_contacts', activityId: id, target: `${erased} 位中奖者`, detail: { erased } }, now);
      return c.json({ erased }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/redeem',
      summary: '核销：线下核销码兑现一次（再次核销为 409）',
      security,
      request: {
        body: {
          required: true,
          ...json(
            z.object({
              code: z
                .string()
                .trim()
                .min(1, '请输入核销码')
                .max(64)
                .transform((s) => s.toUpperCase()),
            }),
          ),
        },
      },
      responses: {
        200: { description: '已核销', ...json(WinnerSchema) },
        ...errorResponses(401, 404, 409, 422),
      },
    }),
    async (c) => {
      const { db } = c.var.services;
      const now = Date.now();
      const row = await redeemCode(db, c.var.user.id, c.req.valid('json').code, now);
      await audit(
        db,
        c.var.user,
        { action: 'prize.redeem', activityId: row.winner.activityId, target: `核销码 ${row.winner.code}`, detail: { winner: row.winner.id } },
        now,
      );
      return c.json(presentWinner(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/winners/{id}/ship',
      summary: '发货（填写快递公司与单号，并通知粉丝）',
      security,
      request: { params: IdParam, body: { required: true, ...json(Tracking) } },
      responses: { 204: { description: '已发货' }, ...errorResponses(401, 404, 409, 422) },
    }),
    async (c) => {
      const t = c.req.valid('json');
      const now = Date.now();
      const shipped = await shipWinner(c.var.services, c.var.user.id, c.req.valid('param').id, { company: t.company, trackingNo: t.tracking_no }, now);
      const detail = { winner: shipped.id, company: t.company, tracking_no: t.tracking_no };
      await audit(c.var.services.db, c.var.user, { action: 'prize.ship', activityId: shipped.activityId, target: `中奖记录 #${shipped.id}`, detail }, now);
      return c.body(null, 204);
    },
  );

import { and, count, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { Looking } from '../db/values';
import { AppError, notFound } from '../errors';
import { sha256Hex } from '../lib/bytes';
import type { WeChatService } from '../platform/wechat-service';
import { type PrintSize, renderPrintQr } from '../poster/print-qr';
import { renderQrPng } from '../poster/render';
import { WeChatApiError } from '../wechat/api';
import { promoScene } from './scene';
import { likePattern } from './search';

async function ownedAccount(db: Db, userId: number, appid: string) {
  const account = await db.query.publicNumbers.findFirst({
    where: and(eq(schema.publicNumbers.authorizerAppid, appid), eq(schema.publicNumbers.userId, userId)),
  });
  if (!account?.authorized) throw new AppError('validation_failed', '公众号不存在或未授权', { account: '公众号不存在或未授权' });
  return account;
}

/**
 * Creates a channel: a permanent QR (`QR_LIMIT_STR_SCENE`, "2_{id}") drawn to PNG in R2. If
 * WeChat refuses, the channel is not kept.
 */
export async function createPromo({ db, posters, wechat }: { db: Db; posters: R2Bucket; wechat: WeChatService }, userId: number, name: string, appid: string) {
  const account = await ownedAccount(db, userId, appid);
  const [row] = await db.insert(schema.promo).values({ name, accountId: account.id, mtbUserId: userId }).returning({ id: schema.promo.id });
  try {
    const ticket = await wechat.createQrcode(appid, promoScene(row.id));
    const png = await renderQrPng(ticket.url);
    const key = `${(await sha256Hex(png.bytes)).slice(0, 32)}.png`;
    await posters.put(key, png.bytes, { httpMetadata: { contentType: 'image/png', cacheControl: 'public, max-age=31536000, immutable' } });
    await db.update(schema.promo).set({ qr: key, qrUrl: ticket.url }).where(eq(schema.promo.id, row.id));
    return row.id;
  } catch (e) {
    await db.delete(schema.promo).where(eq(schema.promo.id, row.id));
    if (e instanceof WeChatApiError && e.errcode === 48001) {
      throw new AppError('validation_failed', '该公众号不能生成永久二维码（需要认证服务号）', { account: '该公众号不能生成永久二维码（需要认证服务号）' });
    }
    throw e;
  }
}

async function ownedPromo(db: Db, userId: number, id: number) {
  const p = await db.query.promo.findFirst({ where: and(eq(schema.promo.id, id), eq(schema.promo.mtbUserId, userId), isNull(schema.promo.deletedAt)) });
  if (!p) throw notFound('推广码');
  return p;
}

export async function renamePromo(db: Db, userId: number, id: number, name: string) {
  await ownedPromo(db, userId, id);
  await db.update(schema.promo).set({ name }).where(eq(schema.promo.id, id));
}

/** The QR stays valid in WeChat; later follows through it are still recorded, as a deleted channel. */
export async function deletePromo(db: Db, userId: number, id: number, now = Date.now()) {
  await ownedPromo(db, userId, id);
  await db.update(schema.promo).set({ deletedAt: now }).where(eq(schema.promo.id, id));
}

/** A channel with its account and how many fans it brought (and still has). */
export interface PromoSummary {
  promo: typeof schema.promo.$inferSelect;
  appid: string;
  accountName: string;
  followers: number;
  following: number;
}

async function summaries(db: Db, ids: number[]): Promise<PromoSummary[]> {
  if (!ids.length) return [];
  const [rows, stats] = await db.batch([
    db
      .select({ promo: schema.promo, appid: schema.publicNumbers.authorizerAppid, accountName: schema.publicNumbers.nickName })
      .from(schema.promo)
      .innerJoin(schema.publicNumbers, eq(schema.publicNumbers.id, schema.promo.accountId))
      .where(inArray(schema.promo.id, ids)),
    db
      .select({
        promoId: schema.promoFollow.promoId,
        followers: count(),
        following: sql<number>`coalesce(sum(${schema.promoFollow.looking} = ${Looking.following}), 0)`,
      })
      .from(schema.promoFollow)
      .where(inArray(schema.promoFollow.promoId, ids))
      .groupBy(schema.promoFollow.promoId),
  ]);
  return ids.map((id) => {
    const r = rows.find((x) => x.promo.id === id)!;
    const s = stats.find((x) => x.promoId === id);
    return { ...r, followers: s?.followers ?? 0, following: Number(s?.following ?? 0) };
  });
}

export async function listPromos(
  db: Db,
  userId: number,
  f: { q?: string; account?: string; page: number; pageSize: number },
): Promise<{ items: PromoSummary[]; total: number }> {
  const where = and(
    eq(schema.promo.mtbUserId, userId),
    isNull(schema.promo.deletedAt),
    f.q ? sql`${schema.promo.name} LIKE ${likePattern(f.q)} ESCAPE '\\'` : undefined,
    f.account ? sql`${schema.promo.accountId} IN (SELECT id FROM public_numbers WHERE authorizer_appid = ${f.account} AND user_id = ${userId})` : undefined,
  );
  const [rows, [{ total }]] = await db.batch([
    db
      .select({ id: schema.promo.id })
      .from(schema.promo)
      .where(where)
      .orderBy(desc(schema.promo.id))
      .limit(f.pageSize)
      .offset((f.page - 1) * f.pageSize),
    db.select({ total: count() }).from(schema.promo).where(where),
  ]);
  return {
    items: await summaries(
      db,
      rows.map((r) => r.id),
    ),
    total,
  };
}

/** A promo with its followers and unfollows per Asia/Shanghai day. */
export async function getPromo(db: Db, userId: number, id: number): Promise<PromoSummary & { days: { date: string; followers: number; unfollows: number }[] }> {
  await ownedPromo(db, userId, id);
  const [summary] = await summaries(db, [id]);
  const dayExpr = (col: typeof schema.promoFollow.subscribeTime | typeof schema.promoFollow.unsubscribeTime) =>
    sql<string>`date((${col} / 1000) + 28800, 'unixepoch')`;
  const [follows, unfollows] = await db.batch([
    db
      .select({ date: dayExpr(schema.promoFollow.subscribeTime), n: count() })
      .from(schema.promoFollow)
      .where(eq(schema.promoFollow.promoId, id))
      .groupBy(dayExpr(schema.promoFollow.subscribeTime)),
    db
      .select({ date: dayExpr(schema.promoFollow.unsubscribeTime), n: count() })
      .from(schema.promoFollow)
      .where(and(eq(schema.promoFollow.promoId, id), sql`${schema.promoFollow.unsubscribeTime} IS NOT NULL`))
      .groupBy(dayExpr(schema.promoFollow.unsubscribeTime)),
  ]);
  const dates = [...new Set([...follows, ...unfollows].map((d) => d.date))].sort();
  return {
    ...summary,
    days: dates.map((date) => ({ date, followers: follows.find((f) => f.date === date)?.n ?? 0, unfollows: unfollows.find((u) => u.date === date)?.n ?? 0 })),
  };
}

/** The channel's QR code ready to print, `cm` wide with its name under it (404 while it has no QR). */
export async function printablePromoQr(db: Db, userId: number, id: number, cm: PrintSize): Promise<{ name: string; png: Uint8Array }> {
  const promo = await ownedPromo(db, userId, id);
  if (!promo.qrUrl) throw notFound('推广码二维码');
  return { name: promo.name, png: await renderPrintQr(promo.qrUrl, promo.name, cm) };
}

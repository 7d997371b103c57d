import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { AppError } from '../errors';
import { toHex } from '../lib/bytes';
import { forgetAccount } from '../campaign/followers';
import type { WeChatService } from './wechat-service';

/** An authorization link is good for 30 minutes and one use. */
const REQUEST_TTL_MS = 30 * 60_000;

/** Parametric QR codes need a verified (verify_type 0..) service account (service_type 2). */
export const canCreateQr = (a: { serviceType: number; verifyType: number }) => a.serviceType === 2 && a.verifyType >= 0;

/**
 * Starts "授权公众号": records who asked, then builds WeChat's authorization page URLs whose
 * redirect names that request.
 */
export async function startAuthorization(db: Db, wechat: WeChatService, userId: number, publicBaseUrl: string, now = Date.now()) {
  const id = toHex(crypto.getRandomValues(new Uint8Array(16)));
  await db.insert(schema.authorizeRequests).values({ id, userId, expiresAt: now + REQUEST_TTL_MS });
  const preAuthCode = await wechat.preAuthCode();
  const redirect = `${publicBaseUrl}/wechat/authorized?req=${id}`;
  return { url: wechat.authorizationPageUrl(preAuthCode, redirect), mobile_url: wechat.authorizationPageUrl(preAuthCode, redirect, true) };
}

/** Finishes the authorization WeChat redirected back: query_auth + authorizer info → public_numbers. */
export async function completeAuthorization(db: Db, wechat: WeChatService, requestId: string, authCode: string, now = Date.now()) {
  const claimed = await db
    .update(schema.authorizeRequests)
    .set({ usedAt: now })
    .where(and(eq(schema.authorizeRequests.id, requestId), isNull(schema.authorizeRequests.usedAt), gt(schema.authorizeRequests.expiresAt, now)))
    .returning({ userId: schema.authorizeRequests.userId });
  if (!claimed.length) throw new AppError('bad_request', '授权链接已失效，请回到后台重新点击“授权公众号”');
  return refreshAccount(db, wechat, authCode, claimed[0].userId, now);
}

/** query_auth with an authorization code, then stores the account for `userId`. */
export async function refreshAccount(db: Db, wechat: WeChatService, authCode: string, userId: number, now = Date.now()) {
  const auth = await wechat.queryAuth(authCode);
  const appid = auth.authorizer_appid;
  const existing = await db.query.publicNumbers.findFirst({ where: eq(schema.publicNumbers.authorizerAppid, appid) });
  if (existing && existing.userId !== userId) {
    throw new AppError('conflict', '该公众号已由其他媒体宝账号授权，请先在原账号中解除授权');
  }
  const info = await wechat.authorizerInfo(appid);
  const row = {
    userId,
    authorizerAppid: appid,
    nickName: info.nick_name ?? '',
    userName: info.user_name ?? '',
    headImg: info.head_img ?? '',
    serviceType: info.service_type_info?.id ?? 0,
    verifyType: info.verify_type_info?.id ?? -1,
    principalName: info.principal_name ?? '',
    alias: info.alias ?? '',
    qrcodeUrl: info.qrcode_url ?? '',
    funcInfo: (auth.func_info ?? []).map((f) => f.funcscope_category.id),
    refreshToken: auth.authorizer_refresh_token,
    authorized: 1,
    authorizedAt: now,
    revokedAt: null,
    updatedAt: now,
  };
  const [saved] = await db
    .insert(schema.publicNumbers)
    .values(row)
    .onConflictDoUpdate({ target: schema.publicNumbers.authorizerAppid, set: row })
    .returning();
  forgetAccount(appid);
  return saved;
}

/** The public view of an account: never its tokens. */
export function accountView(a: typeof schema.publicNumbers.$inferSelect) {
  return {
    id: a.id,
    appid: a.authorizerAppid,
    nick_name: a.nickName,
    user_name: a.userName,
    head_img: a.headImg,
    service_type: a.serviceType,
    verify_type: a.verifyType,
    principal_name: a.principalName,
    qr_capable: canCreateQr(a),
    authorized: a.authorized === 1,
    authorized_at: new Date(a.authorizedAt).toISOString(),
    revoked_at: a.revokedAt ? new Date(a.revokedAt).toISOString() : null,
  };
}

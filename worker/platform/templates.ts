import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { AppError, notFound } from '../errors';
import { WeChatApiError } from '../wechat/api';
import type { PrivateTemplate } from '../wechat/authorizer';
import type { WeChatService } from './wechat-service';

/**
 * An account's template messages (模板消息), managed for its operator: listed from WeChat, added
 * from WeChat's library by short id, deleted. WeChat keeps them; nothing is stored here.
 */

/** What WeChat's refusals mean to the operator. */
function operatorError(e: unknown): never {
  if (!(e instanceof WeChatApiError)) throw e;
  if (e.errcode === 48001) throw new AppError('conflict', '该公众号不能使用模板消息：只有认证服务号可以使用，且需授权“消息管理”权限');
  if (e.errcode === 45026) throw new AppError('conflict', '该公众号的模板已达上限（25 个），请先删除不用的模板');
  throw e;
}

/** The operator's authorized account, or 404. */
async function ownedAccount(db: Db, userId: number, appid: string) {
  const a = await db.query.publicNumbers.findFirst({
    where: and(eq(schema.publicNumbers.authorizerAppid, appid), eq(schema.publicNumbers.userId, userId)),
  });
  if (!a) throw notFound('公众号');
  return a;
}

export async function listTemplates(db: Db, wechat: WeChatService, userId: number, appid: string): Promise<PrivateTemplate[]> {
  await ownedAccount(db, userId, appid);
  return wechat.listTemplates(appid).catch(operatorError);
}

/** Adds a template from WeChat's library; its new template_id. */
export async function addTemplate(db: Db, wechat: WeChatService, userId: number, appid: string, shortId: string, keywordNames?: string[]): Promise<string> {
  await ownedAccount(db, userId, appid);
  return wechat.addTemplate(appid, shortId, keywordNames).catch((e) => {
    if (e instanceof WeChatApiError && e.errcode === 40037)
      throw new AppError('validation_failed', '模板库中没有这个模板编号', {
        template_id_short: '模板库中没有这个模板编号，请在公众平台“模板消息 → 模板库”中查看',
      });
    return operatorError(e);
  });
}

export async function deleteTemplate(db: Db, wechat: WeChatService, userId: number, appid: string, templateId: string): Promise<void> {
  await ownedAccount(db, userId, appid);
  await wechat.deleteTemplate(appid, templateId).catch((e) => {
    if (e instanceof WeChatApiError && e.errcode === 40037) throw notFound('模板');
    return operatorError(e);
  });
}

import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { decodeCursor } from '../../campaign/cursor';
import { AppError } from '../../errors';

/** The error envelope every 4xx/5xx of the API carries. */
export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      fields: z.record(z.string(), z.string()).optional(),
    }),
  })
  .openapi('Error');

const DESCRIPTIONS: Record<number, string> = {
  400: '请求格式错误',
  401: '未登录或登录已过期',
  404: '资源不存在或不属于当前用户',
  409: '与现有数据冲突',
  413: '内容过大',
  415: '类型不支持',
  422: '字段校验失败',
  429: '请求过于频繁',
  502: '微信接口返回错误',
};

/** Declares the error responses a route can give, all with the one envelope. */
export function errorResponses(...statuses: (keyof typeof DESCRIPTIONS)[]) {
  return Object.fromEntries(statuses.map((s) => [s, { description: DESCRIPTIONS[s], content: { 'application/json': { schema: ErrorSchema } } }])) as Record<
    number,
    { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }
  >;
}

/** Turns zod issues into `{ "awards.1.number": "…" }` for the envelope's `fields`. */
export function issuesToFields(issues: readonly { path: readonly PropertyKey[]; message: string }[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const i of issues) {
    const key = i.path.map(String).join('.') || '_';
    fields[key] ??= i.message;
  }
  return fields;
}

/** An OpenAPI sub-app whose validation failures become the one error envelope (422). */
export function createApi() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw new AppError('validation_failed', '提交的数据有误，请检查标注的字段', issuesToFields(result.error.issues));
    },
  });
}

/** Applies to every operator route: the session cookie (or a Bearer token) is required. */
export const security: Record<string, string[]>[] = [{ cookieAuth: [] }, { bearerAuth: [] }];

/** A JSON request or response body with its schema. */
export const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });

/** `{id}` path parameter: a positive integer. */
export const IdParam = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'id', in: 'path' } }),
});

/** `cursor` of a keyset-paged list: a next_cursor or prev_cursor the API gave (campaign/cursor.ts). */
export const CursorParam = z
  .string()
  .max(64)
  .transform((s, ctx) => {
    const cursor = decodeCursor(s);
    if (cursor) return cursor;
    ctx.addIssue({ code: 'custom', message: '翻页游标无效，请从第一页重新翻页' });
    return z.NEVER;
  })
  .optional()
  .openapi({ description: '上一次返回的 next_cursor 或 prev_cursor（深翻页用它，每页一样快）', type: 'string' });

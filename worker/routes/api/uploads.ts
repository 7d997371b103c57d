import { createRoute, z } from '@hono/zod-openapi';
import { ownedUpload, storeUpload } from '../../campaign/uploads';
import { AppError } from '../../errors';
import { createApi, errorResponses, security } from './openapi';

const UploadSchema = z
  .object({ key: z.string(), url: z.string(), width: z.number().int(), height: z.number().int(), size: z.number().int(), content_type: z.string() })
  .openapi('Upload');

const upload = createRoute({
  method: 'post',
  path: '/uploads',
  summary: '上传海报背景（JPG/PNG，≤ 2 MB、≤ 300 万像素，按文件内容识别类型）',
  security,
  request: {
    body: {
      required: true,
      content: {
        'multipart/form-data': { schema: z.object({ file: z.any().openapi({ type: 'string', format: 'binary' }) }) },
        'image/png': { schema: z.any().openapi({ type: 'string', format: 'binary' }) },
        'image/jpeg': { schema: z.any().openapi({ type: 'string', format: 'binary' }) },
      },
    },
  },
  responses: { 201: { description: '已上传', content: { 'application/json': { schema: UploadSchema } } }, ...errorResponses(401, 413, 415, 422) },
});

const show = createRoute({
  method: 'get',
  path: '/uploads/{key}',
  summary: '查看自己上传的图片',
  security,
  request: { params: z.object({ key: z.string().openapi({ param: { name: 'key', in: 'path' } }) }) },
  responses: { 200: { description: '图片', content: { 'image/png': { schema: z.any() }, 'image/jpeg': { schema: z.any() } } }, ...errorResponses(401, 404) },
});

/** Reads the upload body, multipart (`file`) or raw; capBodies has already capped its size. */
async function readUpload(req: Request): Promise<Uint8Array> {
  if ((req.headers.get('content-type') ?? '').startsWith('multipart/form-data')) {
    const file = (await req.formData()).get('file');
    if (!file || typeof file === 'string') throw new AppError('validation_failed', '请选择要上传的图片', { file: '请选择要上传的图片' });
    return new Uint8Array(await file.arrayBuffer());
  }
  return new Uint8Array(await req.arrayBuffer());
}

export const uploadsApi = createApi();
// Plain handlers: the body is raw bytes or multipart read by `readUpload` (the validator would
// consume it); the routes are registered below for the OpenAPI document and typed client.
uploadsApi
  .post('/uploads', async (c) => {
    const { db, uploads } = c.var.services;
    const u = await storeUpload(db, uploads, c.var.user.id, await readUpload(c.req.raw));
    return c.json(
      { key: u.key, url: `/api/uploads/${u.key}`, width: u.width, height: u.height, size: u.size, content_type: u.contentType } satisfies z.infer<
        typeof UploadSchema
      >,
      201,
    );
  })
  // Keys contain slashes ("bg/1/abc.png"), so the path is matched with a wildcard.
  .get('/uploads/:key{.+}', async (c) => {
    const { db, uploads } = c.var.services;
    const row = await ownedUpload(db, c.var.user.id, c.req.param('key'));
    const obj = await uploads.get(row.key);
    if (!obj) throw new AppError('not_found', '图片不存在');
    return c.body(obj.body, 200, { 'content-type': row.contentType, 'cache-control': 'private, max-age=31536000, immutable' });
  });
uploadsApi.openAPIRegistry.registerPath(upload);
uploadsApi.openAPIRegistry.registerPath(show);

import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../app-env';
import { MAX_UPLOAD_BYTES } from '../../campaign/uploads';
import { AppError } from '../../errors';
import { readBodyAtMost } from '../../lib/body';

/** JSON bodies: the largest a form can send, an activity with every notice at its longest, is ~130 KB. */
export const MAX_JSON_BYTES = 256 * 1024;
/** Pictures (raw or multipart): the upload cap, with room for the multipart envelope. */
const MAX_PICTURE_BYTES = MAX_UPLOAD_BYTES + 64 * 1024;

/**
 * Caps every request body before anything reads it (413 past the cap, with at most the cap held
 * in memory, chunked bodies included): pictures by the upload cap, everything else as JSON.
 */
export function capBodies(): MiddlewareHandler<AppEnv> {
  return async function capBodies(c, next) {
    if (!c.req.raw.body) return next();
    const picture = /^(multipart\/form-data|image\/)/i.test(c.req.header('content-type') ?? '');
    const bytes = await readBodyAtMost(c.req.raw, picture ? MAX_PICTURE_BYTES : MAX_JSON_BYTES);
    if (!bytes) {
      throw picture
        ? new AppError('payload_too_large', '图片不能超过 2 MB', { file: '图片不能超过 2 MB' })
        : new AppError('payload_too_large', `请求内容过大（最多 ${MAX_JSON_BYTES / 1024} KB）`);
    }
    c.req.raw = new Request(c.req.raw, { body: bytes });
    await next();
  };
}

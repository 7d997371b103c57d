import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { AppError, notFound } from '../errors';
import { sha256Hex } from '../lib/bytes';
import { coverPixels } from '../poster/background';
import { sniffImage } from '../poster/images';
import { storeBackgroundPixels } from './backgrounds';

export const MAX_UPLOAD_BYTES = 2 * 1024 * 1024;
/**
 * Pixels a background may have: decoding and scaling one holds ~8 bytes per pixel at once (12 MB
 * of pixels and 13 MB of scaling rows at 3 MP), in an isolate allowed 128 MB, and a 2 MB JPEG can
 * hold 16 MP. The admin crops pictures to the poster size in the browser before uploading, so
 * operators do not meet this.
 */
export const MAX_UPLOAD_PIXELS = 3_000_000;

/**
 * Stores a poster background for an operator; the key is derived from the owner and content.
 * The picture is decoded here, once, and its canvas pixels stored next to it, so no render
 * decodes it.
 */
export async function storeUpload(db: Db, bucket: R2Bucket, userId: number, bytes: Uint8Array) {
  if (bytes.length > MAX_UPLOAD_BYTES) throw new AppError('payload_too_large', '图片不能超过 2 MB', { file: '图片不能超过 2 MB' });
  const info = sniffImage(bytes);
  if (!info || info.width < 1 || info.height < 1) throw new AppError('unsupported_media_type', '只支持 JPG 或 PNG 图片', { file: '只支持 JPG 或 PNG 图片' });
  if (info.width * info.height > MAX_UPLOAD_PIXELS) {
    const message = `图片 ${info.width}×${info.height} 像素过多（上限 300 万像素），请缩小后上传，海报尺寸 750×1334 最合适`;
    throw new AppError('validation_failed', message, { file: message });
  }
  const key = `bg/${userId}/${(await sha256Hex(bytes)).slice(0, 32)}.${info.type === 'image/png' ? 'png' : 'jpg'}`;
  const pixels = await coverPixels(bytes);
  await Promise.all([
    bucket.put(key, bytes, { httpMetadata: { contentType: info.type, cacheControl: 'private, max-age=31536000, immutable' } }),
    storeBackgroundPixels(bucket, key, pixels),
  ]);
  const upload = { key, mtbUserId: userId, contentType: info.type, size: bytes.length, width: info.width, height: info.height };
  await db.insert(schema.uploads).values(upload).onConflictDoNothing();
  return upload;
}

/** An operator's own upload, or 404. */
export async function ownedUpload(db: Db, userId: number, key: string) {
  const row = await db.query.uploads.findFirst({ where: and(eq(schema.uploads.key, key), eq(schema.uploads.mtbUserId, userId)) });
  if (!row) throw notFound('图片');
  return row;
}

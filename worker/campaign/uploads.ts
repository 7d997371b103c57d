import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { AppError, notFound } from '../errors';
import { sha256Hex } from '../lib/bytes';
import { coverPixels, MAX_BACKGROUND_PIXELS } from '../poster/background';
import type { Pixels } from '../poster/engines';
import { ImageError } from '../poster/image-error';
import { sniffImage } from '../poster/images';
import { encodeBackground } from '../poster/render';
import { backgroundOutput, cacheBackground, storeBackground } from './backgrounds';

export const MAX_UPLOAD_BYTES = 2 * 1024 * 1024;

/**
 * Stores a poster background for an operator; the key is derived from the owner and content.
 * The picture is decoded here, once, and its canvas pixels stored next to it, so no render
 * decodes it.
 */
export async function storeUpload(db: Db, bucket: R2Bucket, userId: number, bytes: Uint8Array) {
  if (bytes.length > MAX_UPLOAD_BYTES) throw new AppError('payload_too_large', '图片不能超过 2 MB', { file: '图片不能超过 2 MB' });
  const info = sniffImage(bytes);
  if (!info || info.width < 1 || info.height < 1) throw new AppError('unsupported_media_type', '只支持 JPG 或 PNG 图片', { file: '只支持 JPG 或 PNG 图片' });
  if (info.width * info.height > MAX_BACKGROUND_PIXELS) throw tooManyPixels(info);
  // Decoded before anything is stored: bytes that only start like a picture are refused here.
  let pixels: Pixels;
  try {
    pixels = await coverPixels(bytes, backgroundOutput);
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    if (e.reason === 'too_large' && e.size) throw tooManyPixels(e.size);
    const message = '图片无法解码（文件可能已损坏），请重新导出为 JPG 或 PNG 后上传';
    throw new AppError('unsupported_media_type', message, { file: message });
  }
  const key = `bg/${userId}/${(await sha256Hex(bytes)).slice(0, 32)}.${info.type === 'image/png' ? 'png' : 'jpg'}`;
  const mcus = encodeBackground(pixels);
  await Promise.all([
    bucket.put(key, bytes, { httpMetadata: { contentType: info.type, cacheControl: 'private, max-age=31536000, immutable' } }),
    storeBackground(bucket, key, pixels, mcus),
  ]);
  cacheBackground(key, pixels, mcus);
  const upload = { key, mtbUserId: userId, contentType: info.type, size: bytes.length, width: info.width, height: info.height };
  await db.insert(schema.uploads).values(upload).onConflictDoNothing();
  return upload;
}

function tooManyPixels({ width, height }: { width: number; height: number }): AppError {
  const message = `图片 ${width}×${height} 像素过多（上限 300 万像素），请缩小后上传，海报尺寸 750×1334 最合适`;
  return new AppError('validation_failed', message, { file: message });
}

/** An operator's own upload, or 404. */
export async function ownedUpload(db: Db, userId: number, key: string) {
  const row = await db.query.uploads.findFirst({ where: and(eq(schema.uploads.key, key), eq(schema.uploads.mtbUserId, userId)) });
  if (!row) throw notFound('图片');
  return row;
}

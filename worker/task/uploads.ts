import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { schema } from '../db/client';
import { AppError, notFound } from '../errors';
import { sha256Hex } from '../wechat/bytes';

export const MAX_UPLOAD_BYTES = 2 * 1024 * 1024;

export interface ImageInfo {
  type: 'image/png' | 'image/jpeg';
  width: number;
  height: number;
}

/** Identifies a PNG or JPEG by its bytes (never by name or declared type) and reads its size. */
export function sniffImage(b: Uint8Array): ImageInfo | null {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length > 24 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((x, i) => b[i] === x)) {
    return { type: 'image/png', width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    // Walk the segments to the frame header (SOF0..SOF15, except DHT/JPG/DAC) for the size.
    for (let i = 2; i + 9 < b.length; ) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1];
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xff) {
        i += marker === 0xff ? 1 : 2;
        continue;
      }
      const len = view.getUint16(i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { type: 'image/jpeg', height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
      }
      i += 2 + len;
    }
  }
  return null;
}

/** Stores a poster background for an operator; the key is derived from the owner and content. */
export async function storeUpload(db: Db, bucket: R2Bucket, userId: number, bytes: Uint8Array) {
  if (bytes.length > MAX_UPLOAD_BYTES) throw new AppError('payload_too_large', '图片不能超过 2 MB', { file: '图片不能超过 2 MB' });
  const info = sniffImage(bytes);
  if (!info || info.width < 1 || info.height < 1) throw new AppError('unsupported_media_type', '只支持 JPG 或 PNG 图片', { file: '只支持 JPG 或 PNG 图片' });
  if (info.width > 4096 || info.height > 4096) throw new AppError('validation_failed', '图片尺寸不能超过 4096×4096', { file: '图片尺寸不能超过 4096×4096' });
  const key = `bg/${userId}/${(await sha256Hex(bytes)).slice(0, 32)}.${info.type === 'image/png' ? 'png' : 'jpg'}`;
  await bucket.put(key, bytes, { httpMetadata: { contentType: info.type, cacheControl: 'private, max-age=31536000, immutable' } });
  await db.insert(schema.uploads).values({ key, mtbUserId: userId, contentType: info.type, size: bytes.length, width: info.width, height: info.height }).onConflictDoNothing();
  return { key, url: `/api/uploads/${key}`, width: info.width, height: info.height, size: bytes.length, content_type: info.type };
}

/** An operator's own upload, or 404. */
export async function ownedUpload(db: Db, userId: number, key: string) {
  const row = await db.query.uploads.findFirst({ where: and(eq(schema.uploads.key, key), eq(schema.uploads.mtbUserId, userId)) });
  if (!row) throw notFound('图片');
  return row;
}

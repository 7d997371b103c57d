import { readStreamAtMost } from '../lib/body';
import { sniffImage } from '../poster/images';
import { MAX_AVATAR_PIXELS } from '../poster/render';

const AVATAR_TIMEOUT_MS = 3_000;
const MAX_AVATAR_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 2;

/**
 * Whether a fan's avatar may be fetched from `url`: WeChat's avatar CDN (qlogo.cn, over https
 * whatever the profile says), or the origin configured for WeChat's web pages
 * (`WECHAT_OPEN_BASE`): open.weixin.qq.com in production, which serves no avatars, and the
 * sandbox in dev and tests, which serves theirs. Returns the URL to fetch, or null.
 */
export function avatarUrl(url: string, openBase: string): URL | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if ((parsed.protocol === 'https:' || parsed.protocol === 'http:') && (parsed.hostname === 'qlogo.cn' || parsed.hostname.endsWith('.qlogo.cn'))) {
    parsed.protocol = 'https:';
    parsed.port = '';
    return parsed;
  }
  return parsed.origin === new URL(openBase).origin ? parsed : null;
}

/**
 * Fetches a fan's avatar, or returns null (the default avatar is drawn) on any failure: a host
 * other than WeChat's ({@link avatarUrl}), a redirect off it, a body over 1 MB (stopped while
 * streaming), bytes that are not a JPEG or PNG, or a picture of more than MAX_AVATAR_PIXELS
 * (refused by its header, before anything decodes it). 3 s in all.
 */
export async function fetchAvatar(url: string, openBase: string): Promise<Uint8Array | null> {
  const signal = AbortSignal.timeout(AVATAR_TIMEOUT_MS);
  try {
    let target = avatarUrl(url, openBase);
    for (let hop = 0; target; hop++) {
      const res = await fetch(target, { signal, redirect: 'manual' });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        const location = res.headers.get('location');
        target = hop < MAX_REDIRECTS && location ? avatarUrl(new URL(location, target).href, openBase) : null;
        continue;
      }
      if (!res.ok || !res.body || Number(res.headers.get('content-length') ?? 0) > MAX_AVATAR_BYTES) {
        await res.body?.cancel();
        return null;
      }
      const bytes = await readStreamAtMost(res.body, MAX_AVATAR_BYTES);
      const info = bytes && sniffImage(bytes);
      return info && info.width * info.height <= MAX_AVATAR_PIXELS ? bytes : null;
    }
    return null;
  } catch {
    return null;
  }
}

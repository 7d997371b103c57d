import { timingSafeEqual, toBase64, utf8 } from '../lib/bytes';

/** A poster link stays valid a week; sending the keyword again issues a fresh one. */
export const STATE_TTL_MS = 7 * 24 * 3600_000;

const b64url = (b: Uint8Array) => toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

async function mac(secret: string, payload: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', utf8(`oauth-state:${secret}`), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return b64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(payload))).subarray(0, 18));
}

/** `state` for the OAuth link: names the take_part_in row, expires, and is HMAC-signed (≤ 128 bytes). */
export async function signState(secret: string, rowId: number, now = Date.now()): Promise<string> {
  const payload = `${rowId.toString(36)}.${Math.floor((now + STATE_TTL_MS) / 1000).toString(36)}`;
  return `${payload}.${await mac(secret, payload)}`;
}

/** The row id of a valid state, or null for a forged, malformed or expired one. */
export async function verifyState(secret: string, state: string, now = Date.now()): Promise<number | null> {
  const parts = state.split('.');
  if (parts.length !== 3 || state.length > 128) return null;
  const [id, exp, sig] = parts;
  if (!/^[0-9a-z]{1,12}$/.test(id) || !/^[0-9a-z]{1,10}$/.test(exp)) return null;
  if (!timingSafeEqual(await mac(secret, `${id}.${exp}`), sig)) return null;
  if (parseInt(exp, 36) * 1000 < now) return null;
  return parseInt(id, 36);
}

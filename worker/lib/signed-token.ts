import { timingSafeEqual, toBase64, utf8 } from './bytes';

/**
 * Short HMAC-signed tokens for what the worker hands out and later takes back: the OAuth `state`
 * of a poster link, fans' links to their progress and claim pages, a fan's page session and the
 * claim page's form (against cross-site posts). A
 * token names what it is for (its purpose is in the key), carries a payload and an expiry, and
 * stays well under WeChat's 128-byte limit for `state`.
 */
export type TokenPurpose = 'oauth-state' | 'progress' | 'claim' | 'fan-session' | 'claim-form';

const b64url = (b: Uint8Array) => toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const SAFE = /^[0-9A-Za-z_:-]{1,80}$/;

/** HMAC keys by purpose and secret: importing one costs more than a signature, and notices sign links by the hundred. */
const keys = new Map<string, Promise<CryptoKey>>();

async function mac(secret: string, purpose: TokenPurpose, payload: string): Promise<string> {
  const name = `${purpose}:${secret}`;
  let key = keys.get(name);
  if (!key) keys.set(name, (key = crypto.subtle.importKey('raw', utf8(name), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])));
  return b64url(new Uint8Array(await crypto.subtle.sign('HMAC', await key, utf8(payload))).subarray(0, 18));
}

/** `payload.expiry.signature`; the payload is letters, digits and `_:-` (it is not encrypted). */
export async function signToken(secret: string, purpose: TokenPurpose, payload: string, expiresAt: number): Promise<string> {
  if (!SAFE.test(payload)) throw new Error('token payloads are at most 80 characters of [0-9A-Za-z_:-]');
  const body = `${payload}.${Math.floor(expiresAt / 1000).toString(36)}`;
  return `${body}.${await mac(secret, purpose, body)}`;
}

/** The payload of a valid token for `purpose`, or null for a forged, malformed or expired one. */
export async function verifyToken(secret: string, purpose: TokenPurpose, token: string, now = Date.now()): Promise<string | null> {
  const parts = token.split('.');
  if (parts.length !== 3 || token.length > 128) return null;
  const [payload, exp, sig] = parts;
  if (!SAFE.test(payload) || !/^[0-9a-z]{1,10}$/.test(exp)) return null;
  if (!timingSafeEqual(await mac(secret, purpose, `${payload}.${exp}`), sig)) return null;
  if (parseInt(exp, 36) * 1000 < now) return null;
  return payload;
}

/** A token naming a take_part_in row (a fan in an activity). */
export const signRowToken = (secret: string, purpose: TokenPurpose, rowId: number, expiresAt: number) =>
  signToken(secret, purpose, rowId.toString(36), expiresAt);

/** The row a valid row token names, or null. */
export async function verifyRowToken(secret: string, purpose: TokenPurpose, token: string, now = Date.now()): Promise<number | null> {
  const payload = await verifyToken(secret, purpose, token, now);
  return payload && /^[0-9a-z]{1,12}$/.test(payload) ? parseInt(payload, 36) : null;
}

/** A poster link stays valid a week; sending the keyword again issues a fresh one. */
export const STATE_TTL_MS = 7 * 24 * 3600_000;

/** `state` for the poster's OAuth link: names the take_part_in row and expires. */
export const signState = (secret: string, rowId: number, now = Date.now()) => signRowToken(secret, 'oauth-state', rowId, now + STATE_TTL_MS);

/** The row id of a valid state, or null for a forged, malformed or expired one. */
export const verifyState = (secret: string, state: string, now = Date.now()) => verifyRowToken(secret, 'oauth-state', state, now);

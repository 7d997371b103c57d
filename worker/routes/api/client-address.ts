import type { Context } from 'hono';
import type { AppEnv } from '../../app-env';
import { timingSafeEqual } from '../../lib/bytes';

/** The admin's server sends ADMIN_API_SECRET in this header on its API calls… */
export const ADMIN_SECRET_HEADER = 'x-admin-secret';
/** …and the address of the browser it serves in this one. */
export const CLIENT_ADDRESS_HEADER = 'x-client-address';

/**
 * Where a request comes from, as the rate limits key it. Cloudflare sets `cf-connecting-ip` on
 * every request from the internet (a client cannot choose it). The admin calls the API from its
 * own server, so it passes its browser's address, which is believed only beside the shared
 * secret: a browser calling /api directly cannot claim another address.
 */
export function clientAddress(c: Context<AppEnv>): string {
  const claimed = c.req.header(CLIENT_ADDRESS_HEADER);
  const secret = c.req.header(ADMIN_SECRET_HEADER);
  if (claimed && secret && timingSafeEqual(secret, c.var.services.config.adminApiSecret)) return claimed.slice(0, 64);
  return c.req.header('cf-connecting-ip') ?? 'unknown';
}

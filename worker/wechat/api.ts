/** An errcode WeChat answered (or -2 when WeChat could not be reached / answered garbage). */
export class WeChatApiError extends Error {
  constructor(
    readonly api: string,
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(`${api}: ${errcode} ${errmsg}`);
    this.name = 'WeChatApiError';
  }
}

/** Token errors after which the token is dropped, refreshed and the call retried once. */
export const TOKEN_EXPIRED = new Set([40001, 40014, 42001]);
/** System busy: retried with backoff. */
export const BUSY = -1;
/** Could not reach WeChat, or its answer was not JSON: the call did not take effect. */
export const UNREACHABLE = -2;
/** WeChat did not answer in time: the call may or may not have taken effect. */
export const TIMED_OUT = -3;

export const isTokenExpired = (e: unknown) => e instanceof WeChatApiError && TOKEN_EXPIRED.has(e.errcode);

export interface CallOptions {
  method?: 'GET' | 'POST';
  json?: unknown;
  body?: BodyInit;
  timeoutMs?: number;
  /** Delays before each retry of a -1 answer; WeChat asks callers not to hammer it. */
  busyBackoffMs?: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Calls a WeChat JSON API: times out, retries -1 with backoff, and turns any non-zero errcode
 * into a WeChatApiError. `api` names the call in errors and logs (never the URL: it holds tokens).
 */
export async function callWeChat<T>(api: string, url: string, opts: CallOptions = {}): Promise<T> {
  const { timeoutMs = 8000, busyBackoffMs = [200, 800] } = opts;
  for (let attempt = 0; ; attempt++) {
    let data: { errcode?: number; errmsg?: string } & Record<string, unknown>;
    try {
      const res = await fetch(url, {
        method: opts.method ?? (opts.json !== undefined || opts.body ? 'POST' : 'GET'),
        headers: opts.json !== undefined ? { 'content-type': 'application/json' } : undefined,
        body: opts.json !== undefined ? JSON.stringify(opts.json) : opts.body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      data = await res.json();
    } catch (e) {
      const timedOut = e instanceof Error && e.name === 'TimeoutError';
      throw new WeChatApiError(api, timedOut ? TIMED_OUT : UNREACHABLE, e instanceof Error ? e.message : String(e));
    }
    const errcode = typeof data.errcode === 'number' ? data.errcode : 0;
    if (errcode === 0) return data as T;
    if (errcode === BUSY && attempt < busyBackoffMs.length) {
      await sleep(busyBackoffMs[attempt]);
      continue;
    }
    throw new WeChatApiError(api, errcode, String(data.errmsg ?? ''));
  }
}

/**
 * Runs `call` with a token; if WeChat says the token expired, drops it (only if it is still the
 * one that failed), takes a fresh one and retries once.
 */
export async function withFreshToken<T>(
  get: () => Promise<string>,
  invalidate: (failed: string) => Promise<void>,
  call: (token: string) => Promise<T>,
): Promise<T> {
  const token = await get();
  try {
    return await call(token);
  } catch (e) {
    if (!isTokenExpired(e)) throw e;
    await invalidate(token);
    return call(await get());
  }
}
